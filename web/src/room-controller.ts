import type { MessageChange, NotificationLevel, ReportReason, RoomRole, UserFieldsFragment } from '../../client/index.js';
import { classify, describe } from './api.js';
import type { Composer } from './composer.js';
import type { ChatLayout } from './layout.js';
import type { MessageList } from './message-list.js';
import type { MessageActions } from './message-view.js';
import { moderates, restrictionOf, type Restriction } from './moderation.js';
import { Outbox } from './outbox.js';
import { Members, TypingSignal, Typists } from './presence.js';
import { inTimeline, newOpenRoom, type ChatState, type OpenRoom } from './state.js';
import { codePoints, MAX_BODY } from './text.js';
import { ThreadController } from './thread-controller.js';
import type { ThreadPanel } from './thread-panel.js';
import type { Message } from './timeline.js';
import type { ChatTransport, RoomEvent } from './transport.js';

/** Jumping back (to a reply's original, a search result, the first unread) reads history in pages this big. */
const JUMP_PAGE = 100;
/** …and gives up after this many pages, showing what it has. */
const JUMP_PAGES = 20;

export interface RoomControllerOptions {
  state: ChatState;
  transport: ChatTransport;
  layout: ChatLayout;
  list: MessageList;
  composer: Composer;
  /** The thread beside the room, with its own box. */
  threadPanel: ThreadPanel;
  /** The open room shows a newer message: mark it read once things settle. */
  markRead(): void;
}

/**
 * The open room: opening it (its timeline, then live messages and room events
 * from the newest message held), older pages as the reader scrolls back,
 * jumping to a message further back, members and typists, its pinned
 * messages, sending, replying, editing, deleting, reacting and pinning, its
 * threads (ThreadController), and closing it again. messageAdded brings every
 * message of the room, thread replies included, so the feed stays one
 * gapless sequence: replies go to their thread, not to the timeline (those
 * sent to the room too go to both).
 */
export class RoomController {
  readonly outbox: Outbox;
  readonly threads: ThreadController;
  private readonly typing: TypingSignal;
  /** The older page each room is reading now, if any. */
  private readonly pageLoads = new WeakMap<OpenRoom, Promise<boolean>>();

  constructor(private readonly options: RoomControllerOptions) {
    const { state, transport } = options;
    this.outbox = new Outbox({
      // A refusal for muting, slow mode or a freeze also shows above the box, with the time left.
      send: (input) =>
        transport.sendMessage(input).catch((error: unknown) => {
          this.noteRefusal(input.roomId, error);
          throw error;
        }),
      classify,
      onChange: () => this.renderMessages(),
      onSent: (message) => this.receive(message),
    });
    this.typing = new TypingSignal({
      roomId: () => state.open?.id ?? null,
      setTyping: (roomId, typing) => transport.setTyping(roomId, typing),
    });
    this.threads = new ThreadController({
      state,
      transport,
      panel: options.threadPanel,
      outbox: this.outbox,
      renderRoom: () => {
        options.layout.showThread(state.open?.thread != null);
        this.renderMessages();
      },
      renderRooms: () => options.layout.renderRooms(state),
      focusRoot: (root) => {
        const shown = state.open?.timeline.get(root.seq);
        if (!shown) return options.composer.focus();
        // Its "N replies" link once it has replies; the message itself otherwise (on a touch screen its
        // Thread button is hidden again behind More).
        options.list.focusAfterRender(root.seq, shown.thread?.replyCount ? 'thread-link' : null);
        this.renderMessages();
      },
      roomName: () => {
        const entry = state.openEntry();
        return entry ? state.roomName(entry) : null;
      },
      onTyped: () => this.typing.typed(),
    });
  }

  /** What the message list's buttons do. */
  readonly actions: MessageActions = {
    onReply: (message) => this.replyTo(message),
    onEdit: (message) => this.setUi({ editing: message.id, picker: null, confirmingDelete: null }, message, 'edit-input'),
    onSaveEdit: (message, body) => void this.saveEdit(message, body),
    onCancelEdit: () => this.cancelUi('editing', 'edit'),
    onDelete: (message) => this.setUi({ confirmingDelete: message.id, picker: null }, message, 'confirm-delete'),
    onConfirmDelete: (message) => void this.remove(message),
    onCancelDelete: () => this.cancelUi('confirmingDelete', 'delete'),
    onTogglePicker: (message) => {
      const open = this.options.state.open;
      if (!open) return;
      const closing = open.ui.picker === message.id;
      this.setUi({ picker: closing ? null : message.id, confirmingDelete: null }, message, closing ? 'react' : 'picker-first');
    },
    onReact: (message, emoji) => void this.react(message, emoji),
    onToggleMenu: (message) => {
      const open = this.options.state.open;
      if (!open) return;
      const closing = open.ui.menu === message.id;
      this.setUi(
        { menu: closing ? null : message.id, picker: null, confirmingDelete: null },
        message,
        closing ? 'more' : 'react',
      );
    },
    onJump: (seq) => void this.jumpTo(seq),
    onReport: (message) => this.setUi({ reporting: message.id, picker: null, confirmingDelete: null }, message, 'report-reason'),
    onSendReport: (message, reason, details) => void this.report(message, reason, details),
    onCancelReport: () => this.cancelUi('reporting', 'report'),
    onOpenThread: (message) => {
      const open = this.options.state.open;
      if (open?.ui.menu) open.ui.menu = null;
      // A reply shown in the room opens its thread at itself.
      void (message.threadRootId
        ? this.threads.open(message.threadRootId, null, message.seq)
        : this.threads.open(message.id, message));
    },
    onPin: (message, pinned) => void this.pin(message, pinned),
  };

  /** The viewer's role in the open room, once read. */
  get viewerRole(): string | null {
    return this.options.state.open?.viewerRole ?? null;
  }

  /** Mutes a member for `seconds` (0 lifts the mute). */
  mute(user: UserFieldsFragment, seconds: number): Promise<void> {
    return this.moderate((roomId, t) => t.muteMember(roomId, user.id, seconds));
  }

  kick(user: UserFieldsFragment): Promise<void> {
    return this.moderate((roomId, t) => t.kickMember(roomId, user.id));
  }

  /** Bans a member for `seconds`, or until lifted when null. */
  ban(user: UserFieldsFragment, seconds: number | null): Promise<void> {
    return this.moderate((roomId, t) => t.banMember(roomId, user.id, seconds));
  }

  setRole(user: UserFieldsFragment, role: RoomRole): Promise<void> {
    return this.moderate((roomId, t) => t.setMemberRole(roomId, user.id, role));
  }

  updateSettings(settings: { slowModeSeconds: number; frozen: boolean }): Promise<void> {
    return this.moderate((roomId, t) => t.updateRoomSettings(roomId, settings));
  }

  /**
   * What notifies the viewer in the open room while they are away, and until
   * when it is muted (null: not muted); the room head shows the answer.
   */
  async setNotifications(level: NotificationLevel, mutedUntil: string | null): Promise<void> {
    const { state, transport, layout } = this.options;
    const open = state.open;
    if (!open) return;
    try {
      const answer = await transport.setRoomNotifications(open.id, level, mutedUntil);
      if (state.open !== open) return;
      open.notifications = { level: answer.notificationLevel, mutedUntil: answer.notificationsMutedUntil ?? null };
      open.error = null;
    } catch (error) {
      open.error = describe(error);
      this.renderMessages();
    }
    layout.renderRoomHead(state);
  }

  /** Opens a room; with `at`, scrolled to that message (a search result), else to the first unread one or the bottom. */
  async open(roomId: string, at: number | null = null): Promise<void> {
    const { state, transport, layout, list } = this.options;
    if (state.open?.id === roomId) {
      if (at !== null) await this.jumpTo(at);
      return;
    }
    this.close();
    const entry = state.room(roomId);
    const unreadFrom = entry && entry.unreadCount > 0 ? entry.lastReadSeq + 1 : null;
    const room = newOpenRoom(roomId, new Typists(() => layout.renderTyping(state.open)), unreadFrom);
    state.open = room;
    this.options.composer.setReplyTo(null);
    layout.renderRooms(state);
    layout.renderRoomHead(state);
    layout.renderTyping(state.open);
    try {
      const page = await transport.newestMessages(roomId);
      if (state.open !== room) return;
      room.timeline.addNewest(page);
      // Live from the newest message held: the server replays what came after it, so nothing falls between.
      const after = room.timeline.newest?.cursor ?? null;
      room.stop.push(
        transport.subscribeMessages(roomId, after, {
          onMessage: (message) => this.receive(message),
          onError: (text) => this.showError(room, text),
        }),
        transport.subscribeRoomEvents(roomId, (event) => this.roomEvent(room, event)),
      );
      // The first unread message, or the one asked for, may be further back than one page.
      const target = at ?? unreadFrom;
      if (target !== null) await this.loadBackTo(room, target);
      await Promise.all([this.loadMembers(room), this.loadPins(room)]);
    } catch (error) {
      this.showError(room, describe(error));
    }
    if (state.open !== room) return;
    this.renderMessages();
    this.options.markRead();
    if (at !== null) this.highlight(room, at);
    else {
      if (unreadFrom !== null) list.scrollToUnread();
      this.options.composer.focus();
    }
  }

  close(): void {
    const { state } = this.options;
    if (!state.open) return;
    this.threads.close(false);
    for (const stop of state.open.stop) stop();
    state.open.typists.clear();
    // While the room is still open, so the stop goes to it.
    this.typing.stop();
    state.open = null;
    this.options.composer.setReplyTo(null);
    this.renderRestriction();
  }

  /** The next older page, when the reader is at the top and there is one. */
  async loadOlder(): Promise<void> {
    const { state, list } = this.options;
    const room = state.open;
    if (!room || room.loadingOlder || !room.timeline.hasOlder || list.awayFromTop) return;
    await this.loadPage(room);
    if (state.open === room) this.renderMessages();
  }

  /** Shows the message at seq: history is read back to it first when it is older than what is held. */
  async jumpTo(seq: number): Promise<void> {
    const room = this.options.state.open;
    if (!room) return;
    await this.loadBackTo(room, seq);
    if (this.options.state.open !== room) return;
    this.renderMessages();
    this.highlight(room, seq);
  }

  /** A message of the open room, live or as a send's answer: a reply goes to its thread, the rest to the timeline. */
  receive(message: Message): void {
    this.outbox.confirm(message);
    const open = this.options.state.open;
    if (open?.id !== message.roomId) return;
    if (message.threadRootId) this.threads.receive(message);
    if (!inTimeline(message)) return;
    if (open.timeline.add(message)) {
      this.renderMessages();
      this.options.markRead();
    }
  }

  typed(): void {
    this.typing.typed();
  }

  send(): void {
    const { state, list, composer } = this.options;
    const open = state.open;
    if (!open) return;
    const outgoing = composer.outgoing();
    if (outgoing === null) return;
    if ('problem' in outgoing) {
      open.error = outgoing.problem;
      return this.renderMessages();
    }
    this.typing.stop();
    this.outbox.enqueue(open.id, outgoing.body, open.replyTo, {
      threadRootId: null,
      showInRoom: false,
      mentions: composer.mentions,
      files: outgoing.files,
    });
    open.replyTo = null;
    open.error = null;
    composer.setReplyTo(null);
    composer.clear();
    list.scrollToBottom();
    this.renderMessages();
  }

  replyTo(message: Message): void {
    const open = this.options.state.open;
    if (!open) return;
    open.replyTo = message;
    if (open.ui.menu) {
      open.ui.menu = null;
      this.renderMessages();
    }
    this.options.composer.setReplyTo(message);
    this.options.composer.focus();
  }

  cancelReply(): void {
    const open = this.options.state.open;
    if (open) open.replyTo = null;
    this.options.composer.setReplyTo(null);
    this.options.composer.focus();
  }

  /** What roomEvents told while the socket was away is read again; messages resume by themselves. */
  async afterReconnect(): Promise<void> {
    const { state, layout, transport } = this.options;
    const open = state.open;
    if (open && open.stop.length === 0) {
      // The room failed to open (its history could not be read): open it again now.
      this.close();
      await this.open(open.id);
    } else if (open) {
      open.typists.clear();
      open.error = null;
      layout.renderTyping(state.open);
      // Edits, deletions and reactions made meanwhile: the newest page again (older ones as they were).
      const page = await transport.newestMessages(open.id).catch(() => null);
      if (page && state.open === open) for (const message of page.messages) open.timeline.update(message);
      await Promise.all([this.loadMembers(open), this.loadPins(open), this.threads.afterReconnect()]);
      this.renderMessages();
    }
  }

  renderMessages(): void {
    const { state, list, layout } = this.options;
    const open = state.open;
    const direct = state.openEntry()?.kind === 'DIRECT';
    list.render(open, open ? this.outbox.pending(open.id) : [], direct);
    // Pins: MODERATOR and above in GROUP rooms, either member in DIRECT ones.
    layout.renderPins(open, direct || moderates(open?.viewerRole), (message) => this.showPinned(message));
    this.threads.render();
  }

  /** A pinned message from the strip: in the timeline, jumped to; a thread's reply, shown in its thread. */
  private showPinned(message: Message): void {
    if (inTimeline(message)) void this.jumpTo(message.seq);
    else void this.threads.open(message.threadRootId!, null, message.seq);
  }

  /** Pins or unpins a message; the strip and the message show it at once (MessageChanged tells the others). */
  private async pin(message: Message, pinned: boolean): Promise<void> {
    const { state, transport, list } = this.options;
    const open = state.open;
    if (!open) return;
    try {
      const changed = await transport.pin(message.id, pinned);
      if (state.open !== open) return;
      open.timeline.update(changed);
      this.notePin(open, changed, pinned ? 'PINNED' : 'UNPINNED');
      open.ui.menu = null;
      open.error = null;
      if (open.timeline.get(message.seq)) list.focusAfterRender(message.seq, pinned ? 'unpin' : 'pin');
    } catch (error) {
      open.error = describe(error);
    }
    this.renderMessages();
  }

  /**
   * The strip, newest pin first, after a message was pinned, unpinned,
   * deleted (which unpins it) or otherwise changed (a pinned one shows its
   * edit). Returns whether the strip changed.
   */
  private notePin(room: OpenRoom, message: Message, change: MessageChange): boolean {
    const others = room.pins.filter((m) => m.id !== message.id);
    const held = others.length < room.pins.length;
    const pinned = change === 'PINNED' || (change !== 'UNPINNED' && change !== 'DELETED' && held && message.pinnedAt !== null);
    if (!pinned && !held) return false;
    room.pins = pinned ? [message, ...others].sort((a, b) => (b.pinnedAt ?? '').localeCompare(a.pinnedAt ?? '')) : others;
    return true;
  }

  private async loadPins(room: OpenRoom): Promise<void> {
    const pins = await this.options.transport.pinnedMessages(room.id).catch(() => null);
    if (!pins || this.options.state.open !== room) return;
    room.pins = pins;
    this.renderMessages();
  }

  /** Reads the room's members again (with their presence). */
  async refreshMembers(): Promise<void> {
    const open = this.options.state.open;
    if (open) await this.loadMembers(open);
  }

  /** A moderation mutation on the open room; the members (and settings) are read again after it, a refusal shows in the notice. */
  private async moderate(action: (roomId: string, transport: ChatTransport) => Promise<unknown>): Promise<void> {
    const open = this.options.state.open;
    if (!open) return;
    try {
      await action(open.id, this.options.transport);
      open.error = null;
    } catch (error) {
      open.error = describe(error);
    }
    await this.loadMembers(open);
  }

  private async report(message: Message, reason: ReportReason, details: string): Promise<void> {
    const { state, transport, list } = this.options;
    const open = state.open;
    if (!open) return;
    try {
      await transport.reportMessage(message.id, reason, details.trim() || null);
      if (state.open !== open) return;
      open.ui.reporting = null;
      open.ui.reported.add(message.id);
      open.error = null;
      list.focusAfterRender(message.seq, null);
    } catch (error) {
      open.error = describe(error);
    }
    this.renderMessages();
  }

  /** A send refused for muting, slow mode, a freeze, a ban or a block: said above the box, counted down while it lasts. */
  private noteRefusal(roomId: string, error: unknown): void {
    const open = this.options.state.open;
    const restriction = restrictionOf(error);
    if (!restriction || open?.id !== roomId) return;
    this.restrict(open, restriction);
  }

  private restrict(room: OpenRoom, restriction: Restriction | null): void {
    room.restriction = restriction;
    if (this.options.state.open === room) this.renderRestriction();
  }

  /** The viewer's standing as the room query tells it: muted until, or a freeze that applies to them. */
  private applyStanding(room: OpenRoom, mutedUntil: string | null): void {
    const until = mutedUntil ? Date.parse(mutedUntil) : 0;
    if (until > Date.now()) return this.restrict(room, { reason: 'MUTED', until });
    if (room.settings.frozen && !moderates(room.viewerRole)) return this.restrict(room, { reason: 'ROOM_FROZEN', until: null });
    // Slow mode is known only from a refused send: it stays until its wait is over.
    const slow = room.restriction?.reason === 'SLOW_MODE' && room.settings.slowModeSeconds > 0 ? room.restriction : null;
    this.restrict(room, slow);
  }

  private ticker: ReturnType<typeof setInterval> | null = null;

  /** Shows the open room's restriction above the box; one with an end counts down each second and goes when it ends. */
  private renderRestriction(): void {
    const { state, composer } = this.options;
    const open = state.open;
    const restriction = open?.restriction ?? null;
    if (restriction?.until && restriction.until <= Date.now()) {
      open!.restriction = null;
      return this.renderRestriction();
    }
    composer.setRestriction(restriction);
    this.options.threadPanel.composer.setRestriction(restriction);
    const ticking = restriction?.until != null;
    if (ticking && !this.ticker) this.ticker = setInterval(() => this.renderRestriction(), 1000);
    if (!ticking && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  private async saveEdit(message: Message, body: string): Promise<void> {
    const { state, transport, list } = this.options;
    const open = state.open;
    if (!open) return;
    if (body.trim() === '' || codePoints(body) > MAX_BODY) {
      open.error = `A message is 1 to ${MAX_BODY.toLocaleString()} characters, not only spaces.`;
      return this.renderMessages();
    }
    if (body === message.body) return this.cancelUi('editing', 'edit');
    try {
      const edited = await transport.editMessage(message.id, body);
      if (state.open !== open) return;
      open.timeline.add(edited);
      open.ui.editing = null;
      open.error = null;
      list.focusAfterRender(message.seq, 'edit');
    } catch (error) {
      open.error = describe(error);
    }
    this.renderMessages();
  }

  private async remove(message: Message): Promise<void> {
    const { state, transport, list } = this.options;
    const open = state.open;
    if (!open) return;
    try {
      const deleted = await transport.deleteMessage(message.id);
      if (state.open !== open) return;
      open.timeline.add(deleted);
      open.ui.confirmingDelete = null;
      open.error = null;
      list.focusAfterRender(message.seq, null);
    } catch (error) {
      open.error = describe(error);
    }
    this.renderMessages();
  }

  /** Adds the viewer's reaction, or takes it back when it is there already. */
  private async react(message: Message, emoji: string): Promise<void> {
    const { state, transport, list } = this.options;
    const open = state.open;
    if (!open) return;
    const mine = message.reactions.some((r) => r.emoji === emoji && r.users.some((u) => u.id === state.me.id));
    const fromPicker = open.ui.picker === message.id;
    try {
      const changed = mine ? await transport.removeReaction(message.id, emoji) : await transport.addReaction(message.id, emoji);
      if (state.open !== open) return;
      open.timeline.add(changed);
      open.ui.picker = null;
      open.error = null;
      list.focusAfterRender(message.seq, fromPicker ? 'react' : `reaction-${emoji}`);
    } catch (error) {
      open.error = describe(error);
    }
    this.renderMessages();
  }

  private setUi(change: Partial<OpenRoom['ui']>, message: Message, focusKey: string): void {
    const open = this.options.state.open;
    if (!open) return;
    Object.assign(open.ui, change);
    this.options.list.focusAfterRender(message.seq, focusKey);
    this.renderMessages();
  }

  /** Closes an edit or a deletion question, focus back on the button that opened it. */
  private cancelUi(which: 'editing' | 'confirmingDelete' | 'reporting', focusKey: string): void {
    const open = this.options.state.open;
    const id = open?.ui[which];
    if (!open || !id) return;
    open.ui[which] = null;
    const message = open.timeline.byId(id);
    if (message) this.options.list.focusAfterRender(message.seq, focusKey);
    this.renderMessages();
  }

  private highlight(room: OpenRoom, seq: number): void {
    room.ui.highlighted = room.timeline.get(seq) ? seq : null;
    this.renderMessages();
    if (this.options.list.scrollToMessage(seq)) return;
    room.error = 'That message is too far back to show here.';
    this.renderMessages();
  }

  /** Reads older pages until the message at seq is held (or the room's start, or the page budget). */
  private async loadBackTo(room: OpenRoom, seq: number): Promise<void> {
    for (let pages = 0; pages < JUMP_PAGES; pages++) {
      const oldest = room.timeline.oldest;
      if (!oldest || oldest.seq <= seq || !room.timeline.hasOlder) return;
      if (!(await this.loadPage(room, JUMP_PAGE))) return;
      if (this.options.state.open !== room) return;
    }
  }

  /**
   * One page older than what is held; false when it could not be read. While
   * a page is on its way (a scroll asked for it), this is that page: a jump
   * waits for it and goes on from there, rather than stopping short.
   */
  private loadPage(room: OpenRoom, size?: number): Promise<boolean> {
    const inFlight = this.pageLoads.get(room);
    if (inFlight) return inFlight;
    room.loadingOlder = true;
    const load = (async () => {
      try {
        const before = room.timeline.oldest?.cursor ?? null;
        room.timeline.addOlder(await this.options.transport.olderMessages(room.id, before, size));
        return true;
      } catch (error) {
        room.error = describe(error);
        return false;
      } finally {
        room.loadingOlder = false;
        this.pageLoads.delete(room);
      }
    })();
    this.pageLoads.set(room, load);
    return load;
  }

  private async loadMembers(room: OpenRoom): Promise<void> {
    const { state, transport, layout } = this.options;
    const details = await transport.room(room.id).catch(() => null);
    if (!details || state.open !== room) return;
    const {
      members,
      viewerRole,
      viewerMutedUntil,
      slowModeSeconds,
      frozen,
      notificationLevel,
      notificationsMutedUntil,
      ...fields
    } = details;
    const listed = state.room(room.id);
    // The open room's read state is the read marker's (it is being read): the server's count, asked
    // before a mark it has not seen yet, would bring back a stale unread badge.
    state.setRoom(
      listed
        ? {
            ...listed,
            ...fields,
            unreadCount: listed.unreadCount,
            unreadMentionCount: listed.unreadMentionCount,
            lastReadSeq: listed.lastReadSeq,
          }
        : fields,
    );
    if (details.kind === 'DIRECT') {
      const peer = members.find((m) => m.user.id !== state.me.id);
      if (peer) state.setPeer(room.id, peer.user);
    }
    room.members = new Members(members);
    room.viewerRole = viewerRole ?? null;
    room.settings = { slowModeSeconds, frozen };
    room.notifications = { level: notificationLevel, mutedUntil: notificationsMutedUntil ?? null };
    this.applyStanding(room, viewerMutedUntil ?? null);
    layout.renderRoomHead(state);
    layout.renderRooms(state);
    this.renderMessages();
  }

  private showError(room: OpenRoom, text: string): void {
    room.error = text;
    if (this.options.state.open === room) this.renderMessages();
  }

  /**
   * A moderation action in the open room: the viewer's own mute shows (or
   * goes) at once; members, roles and settings are read again, as the event
   * does not carry them all.
   */
  private moderationEvent(room: OpenRoom, action: Extract<RoomEvent, { __typename: 'ModerationEvent' }>['action']): void {
    const me = this.options.state.me.id;
    if (action.target?.id === me && action.kind === 'MUTED') {
      this.restrict(room, { reason: 'MUTED', until: action.expiresAt ? Date.parse(action.expiresAt) : null });
    } else if (action.target?.id === me && action.kind === 'UNMUTED' && room.restriction?.reason === 'MUTED') {
      this.restrict(room, null);
    }
    if (action.kind !== 'REPORT_RESOLVED' && action.kind !== 'MESSAGE_DELETED') void this.loadMembers(room);
  }

  private roomEvent(room: OpenRoom, event: RoomEvent): void {
    const { state, layout } = this.options;
    if (state.open !== room) return;
    switch (event.__typename) {
      case 'MessageChanged': {
        const changed = room.timeline.update(event.message);
        const pins = this.notePin(room, event.message, event.messageChange);
        this.threads.changed(event.message);
        if (changed || pins) this.renderMessages();
        break;
      }
      case 'MemberChanged':
        room.members.change(event.user, event.memberChange);
        layout.renderRoomHead(state);
        break;
      case 'TypingChanged':
        if (event.user.id === state.me.id) break;
        room.typists.set(event.user, event.typing);
        layout.renderTyping(state.open);
        break;
      case 'ReadReceipt':
        break;
      case 'ModerationEvent':
        this.moderationEvent(room, event.action);
        break;
    }
  }
}

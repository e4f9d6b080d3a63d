import type { ThreadStateFieldsFragment } from '../../client/index.js';
import { describe } from './api.js';
import type { Outbox } from './outbox.js';
import { newOpenThread, type ChatState, type OpenRoom, type OpenThread, type ThreadSummary } from './state.js';
import type { ThreadPanel } from './thread-panel.js';
import type { Message } from './timeline.js';
import type { ChatTransport } from './transport.js';

/** Replies arriving together are marked read once, this long after the first. */
const SETTLE_MS = 300;
/** Going back to a reply (a search result, a pin) reads at most this many older pages. */
const TARGET_PAGES = 20;

export interface ThreadControllerOptions {
  state: ChatState;
  transport: ChatTransport;
  panel: ThreadPanel;
  /** The room's outbox: a thread's replies go out in the room's order with its other messages. */
  outbox: Outbox;
  /** The room's list shows a root whose summary changed, or the panel opened or closed beside it. */
  renderRoom(): void;
  /** The room list's counts changed. */
  renderRooms(): void;
  /** Where focus goes back when the panel closes: the root's thread link or Thread button. */
  focusRoot(root: Message): void;
  /** The room's name, for the panel's heading. */
  roomName(): string | null;
  /** A key in the panel's box (the room's typing signal). */
  onTyped(): void;
}

/**
 * The thread open beside the room: opening it (its newest replies, then
 * older ones on demand), replies arriving live (the room's messageAdded
 * brings them: the room's feed stays one gapless sequence), replying in it,
 * following it, and marking it read while it is in view, which keeps the
 * root's "N replies" link and the room's mention count right.
 */
export class ThreadController {
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** What opened the panel: focus goes back there when it closes. */
  private openedFrom: Message | null = null;

  constructor(private readonly options: ThreadControllerOptions) {}

  /** The open room's thread, if one is open. */
  private get current(): { room: OpenRoom; thread: OpenThread } | null {
    const room = this.options.state.open;
    return room?.thread ? { room, thread: room.thread } : null;
  }

  /** Whether the user is reading this thread now: open beside its room, the page in view. */
  reading(rootId: string | null): boolean {
    return this.current?.thread.rootId === rootId && rootId !== null && document.visibilityState === 'visible';
  }

  /**
   * Opens the thread of `rootId` in the open room; `root` when the page holds
   * it; `target`, a reply to bring into view (read back to it if need be).
   */
  async open(rootId: string, root: Message | null, target: number | null = null): Promise<void> {
    const { state, transport, panel } = this.options;
    const room = state.open;
    if (!room) return;
    if (room.thread?.rootId === rootId) {
      if (target !== null) await this.showTarget(room.thread, target);
      else panel.focusHeading();
      return;
    }
    this.close(false);
    const held = root ?? room.timeline.byId(rootId) ?? null;
    const thread = newOpenThread(rootId, held, target);
    room.thread = thread;
    this.openedFrom = held;
    this.render();
    this.options.renderRoom();
    panel.focusHeading();
    try {
      thread.replies.addNewest(await transport.threadReplies(rootId));
    } catch (error) {
      thread.error = describe(error);
    }
    thread.loading = false;
    if (room.thread !== thread) return;
    this.render();
    if (target !== null) await this.showTarget(thread, target);
    else panel.scrollToBottom();
    this.markRead();
  }

  /** Closes the panel; focus goes back to what opened it, unless another thread is opening. */
  close(returnFocus = true): void {
    const room = this.options.state.open;
    if (!room?.thread) return;
    room.thread = null;
    this.options.panel.composer.clear();
    this.render();
    this.options.renderRoom();
    const from = this.openedFrom;
    this.openedFrom = null;
    if (returnFocus && from) this.options.focusRoot(from);
  }

  /** A reply of the open room (live, or a send's answer): into the open thread if it is its own. */
  receive(message: Message): void {
    const current = this.current;
    if (!current || message.threadRootId !== current.thread.rootId) return;
    if (current.thread.replies.add(message)) {
      this.render();
      this.markRead();
    }
  }

  /**
   * A message of the open room changed (MessageChanged): the open thread's
   * root (its summary, with the viewer's following) or one of its replies.
   */
  changed(message: Message): void {
    const current = this.current;
    if (!current) return;
    const { thread } = current;
    if (message.id === thread.rootId) {
      thread.root = message;
      if (message.thread) thread.summary = message.thread;
      this.render();
    } else if (message.threadRootId === thread.rootId && thread.replies.update(message)) {
      this.render();
    }
  }

  /** Sends what the panel's box holds as a reply in the open thread (to the room too, when ticked). */
  send(): void {
    const current = this.current;
    const { panel, outbox } = this.options;
    if (!current) return;
    const { room, thread } = current;
    const composer = panel.composer;
    const outgoing = composer.outgoing();
    if (outgoing === null) return;
    if ('problem' in outgoing) {
      thread.error = outgoing.problem;
      return this.render();
    }
    outbox.enqueue(room.id, outgoing.body, null, {
      threadRootId: thread.rootId,
      showInRoom: composer.showInRoom,
      mentions: composer.mentions,
      files: outgoing.files,
    });
    thread.error = null;
    composer.clear();
    panel.scrollToBottom();
    this.render();
  }

  /** Follows the open thread, or stops following it. */
  async toggleFollow(): Promise<void> {
    const { state, transport } = this.options;
    const current = this.current;
    if (!current) return;
    const { room, thread } = current;
    const follow = !(thread.summary?.viewerSubscribed ?? false);
    const ticket = state.askCounts(room.id);
    try {
      const answer = await transport.followThread(thread.rootId, follow);
      this.applySummary(room, thread.rootId, answer, ticket);
      thread.error = null;
    } catch (error) {
      thread.error = describe(error);
    }
    if (room.thread === thread) this.render();
  }

  /** The next older page of the open thread's replies. */
  async loadOlder(): Promise<void> {
    const current = this.current;
    if (!current || current.thread.loadingOlder) return;
    await this.loadPage(current.thread);
    this.render();
  }

  /**
   * A ThreadReply event (a reply in a thread the user follows): the root's
   * summary, with the user's unread count, when the open room shows the root.
   */
  threadReply(root: { id: string }, summary: ThreadSummary, roomId: string): void {
    const room = this.options.state.open;
    if (room?.id !== roomId) return;
    const held = room.timeline.byId(root.id);
    if (held && room.timeline.add({ ...held, thread: { ...held.thread, ...summary } })) this.options.renderRoom();
    if (room.thread?.rootId === root.id) {
      room.thread.summary = summary;
      this.render();
    }
  }

  /** After a reconnect: the open thread's newest replies again (edits and deletions made meanwhile). */
  async afterReconnect(): Promise<void> {
    const current = this.current;
    if (!current) return;
    const page = await this.options.transport.threadReplies(current.thread.rootId).catch(() => null);
    if (!page || current.room.thread !== current.thread) return;
    for (const reply of page.messages) current.thread.replies.add(reply);
    this.render();
    this.markRead();
  }

  /**
   * Marks the open thread read up to its newest reply, once things settle,
   * while the page is in view; the answer (the thread's summary and the
   * room's mention count) replaces what the page showed.
   */
  markRead(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const current = this.current;
      if (!current || document.visibilityState !== 'visible') return;
      const { room, thread } = current;
      const newest = thread.replies.newest;
      if (!newest || newest.seq <= thread.markedSeq) return;
      thread.markedSeq = newest.seq;
      const ticket = this.options.state.askCounts(room.id);
      this.options.transport.markThreadRead(thread.rootId, newest.seq).then(
        (answer) => this.applySummary(room, thread.rootId, answer, ticket),
        () => {
          // Marked again with the next reply, or when the thread is opened again.
          if (thread.markedSeq === newest.seq) thread.markedSeq = 0;
        },
      );
    }, SETTLE_MS);
  }

  render(): void {
    const { state, panel, outbox } = this.options;
    const room = state.open;
    const thread = room?.thread ?? null;
    const pending = room && thread ? outbox.pending(room.id).filter((m) => m.threadRootId === thread.rootId) : [];
    panel.render(thread, pending, this.options.roomName());
  }

  /** A thread's summary as a mutation answered it: on the root the room shows, in the panel, and the room's mention count. */
  private applySummary(room: OpenRoom, rootId: string, answer: ThreadStateFieldsFragment, ticket: number): void {
    const { state } = this.options;
    const { root, participants: _participants, ...summary } = answer;
    state.applyCounts(ticket, root.room);
    this.options.renderRooms();
    if (state.open !== room) return;
    const held = room.timeline.byId(rootId);
    // A root shows a summary once its thread has a reply ("null until it has a reply").
    if (held && (held.thread || summary.replyCount > 0) && room.timeline.add({ ...held, thread: summary })) {
      this.options.renderRoom();
    }
    if (room.thread?.rootId === rootId) {
      room.thread.summary = summary;
      this.render();
    }
  }

  /** Reads older replies back to `seq`, then brings it into view. */
  private async showTarget(thread: OpenThread, seq: number): Promise<void> {
    thread.target = seq;
    for (let pages = 0; pages < TARGET_PAGES; pages++) {
      const oldest = thread.replies.oldest;
      if (!oldest || oldest.seq <= seq || !thread.replies.hasOlder) break;
      if (!(await this.loadPage(thread))) break;
    }
    this.render();
    if (!this.options.panel.scrollToReply(seq)) {
      thread.error = 'That reply is no longer in this thread.';
      this.render();
    }
  }

  private async loadPage(thread: OpenThread): Promise<boolean> {
    thread.loadingOlder = true;
    this.render();
    try {
      const before = thread.replies.oldest?.cursor ?? null;
      thread.replies.addOlder(await this.options.transport.threadReplies(thread.rootId, before));
      return true;
    } catch (error) {
      thread.error = describe(error);
      return false;
    } finally {
      thread.loadingOlder = false;
    }
  }
}

import type { UserFieldsFragment } from '../../client/index.js';
import { h } from './dom.js';
import { focusIn, KeyedList, type Item } from './keyed-list.js';
import { messageSignature, messageView, outgoingView, type MessageActions, type MessageLook } from './message-view.js';
import { moderates, outranks } from './moderation.js';
import type { OutgoingMessage } from './outbox.js';
import type { OpenRoom } from './state.js';
import { dayKey, dayLabel } from './text.js';
import type { Message } from './timeline.js';

/** Within this many pixels of the top, the reader is at the older end and more history is wanted. */
const NEAR_TOP = 80;
/** Within this many pixels of the bottom, the reader follows new messages down. */
const NEAR_BOTTOM = 40;
/** A message this soon after the one above, by the same author on the same day, continues its group. */
const GROUP_MS = 5 * 60_000;

export interface MessageListOptions {
  me: UserFieldsFragment;
  /** The reader scrolled, or the history is too short to fill the pane: older messages may be due. */
  onWantOlder(): void;
  onRetry(clientId: string): void;
  onDiscard(clientId: string): void;
  actions: MessageActions;
}

/**
 * The open room's messages, stored and outgoing, in a pane that scrolls, and
 * the room's notice under it. The pane is a polite live log, so a screen
 * reader announces what is added to it: each render therefore changes only
 * the entries that changed (by key and signature), and leaves the others,
 * the same elements, where they are. Entries: a day separator above each
 * day's first message, a "New messages" divider above the first one that
 * was unread when the room was opened, and messages grouped by author.
 */
export class MessageList {
  readonly scroller: HTMLElement;
  readonly notice: HTMLElement;
  private readonly messages: KeyedList;
  /** Focus to give after the next render: a button of one message (its data-focus-key), or the message itself. */
  private focusRequest: { seq: number; key: string | null } | null = null;

  constructor(private readonly options: MessageListOptions) {
    this.messages = new KeyedList(h('ol', { class: 'messages', 'data-testid': 'messages' }));
    this.scroller = h(
      'div',
      {
        class: 'scroller',
        role: 'log',
        'aria-live': 'polite',
        'aria-label': 'Messages',
        tabindex: 0,
        'data-testid': 'scroller',
        onscroll: () => options.onWantOlder(),
      },
      this.messages.element,
    );
    this.notice = h('p', { class: 'notice error', role: 'alert', 'data-testid': 'room-notice' });
  }

  /** Scrolled down past the point where older messages are loaded. */
  get awayFromTop(): boolean {
    return this.scroller.scrollTop > NEAR_TOP;
  }

  setLabel(roomName: string | null): void {
    this.scroller.setAttribute('aria-label', roomName ? `Messages in ${roomName}` : 'Messages');
  }

  scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Brings a message into the middle of the pane and gives it focus. Returns false when it is not on the page. */
  scrollToMessage(seq: number): boolean {
    const element = this.messages.get(`m:${seq}`);
    if (!element?.isConnected) return false;
    element.scrollIntoView({ block: 'center' });
    element.focus({ preventScroll: true });
    return true;
  }

  /** Brings the "New messages" divider to the top of the pane. Returns false when there is none. */
  scrollToUnread(): boolean {
    const element = this.messages.get('unread');
    if (!element?.isConnected) return false;
    element.scrollIntoView({ block: 'start' });
    return true;
  }

  /** After the next render, focus this button (data-focus-key) of the message at seq, or the message when null. */
  focusAfterRender(seq: number, key: string | null): void {
    this.focusRequest = { seq, key };
  }

  /**
   * Redraws the list, keeping the reader where they were: at the bottom as
   * messages arrive, on the same message as older ones load above. With no
   * room open the list empties and the notice stays as it was.
   */
  render(room: OpenRoom | null, pending: readonly OutgoingMessage[], direct: boolean): void {
    if (!room) return this.messages.clear();
    const { scroller, options } = this;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM;
    const before = scroller.scrollHeight;
    const topBefore = scroller.scrollTop;

    this.reconcile(this.items(room, pending, direct));

    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
    else scroller.scrollTop = topBefore + (scroller.scrollHeight - before) * Number(topBefore < NEAR_TOP);
    this.notice.textContent = room.error ?? '';
    // A short history does not fill the pane, so no scroll would ever ask for more: ask now.
    if (scroller.scrollHeight <= scroller.clientHeight + 1) options.onWantOlder();
  }

  private items(room: OpenRoom, pending: readonly OutgoingMessage[], direct: boolean): Item[] {
    const { me, actions } = this.options;
    const items: Item[] = [];
    const head = room.timeline.hasOlder
      ? room.loadingOlder
        ? 'Loading older messages…'
        : 'Scroll up for older messages'
      : room.timeline.newest
        ? 'The start of the room'
        : 'No messages yet. Say hello!';
    items.push({
      key: 'head',
      signature: head,
      build: () =>
        room.timeline.hasOlder
          ? h('li', { class: 'older', 'data-testid': 'older' }, head)
          : h('li', { class: 'older start', 'data-testid': 'room-start' }, head),
    });
    const today = new Date();
    const threadInView = document.visibilityState === 'visible';
    let previous: Message | null = null;
    let dividerPlaced = false;
    for (const message of room.timeline.list()) {
      const day = dayKey(message.createdAt);
      const newDay = previous === null || dayKey(previous.createdAt) !== day;
      if (newDay) {
        const label = dayLabel(message.createdAt, today);
        items.push({
          key: `day:${day}`,
          signature: label,
          build: () => h('li', { class: 'day', 'data-testid': 'day-separator' }, h('span', {}, label)),
        });
      }
      const unreadHere =
        !dividerPlaced && room.unreadFrom !== null && message.seq >= room.unreadFrom && message.author.id !== me.id;
      if (unreadHere) {
        dividerPlaced = true;
        items.push({
          key: 'unread',
          signature: 'unread',
          build: () => h('li', { class: 'unread-divider', 'data-testid': 'unread-divider' }, h('span', {}, 'New messages')),
        });
      }
      const grouped =
        previous !== null &&
        !newDay &&
        !unreadHere &&
        previous.author.id === message.author.id &&
        !previous.deletedAt &&
        !message.deletedAt &&
        !message.replyTo &&
        Date.parse(message.createdAt) - Date.parse(previous.createdAt) < GROUP_MS;
      const mine = message.author.id === me.id;
      const look: MessageLook = {
        grouped,
        mine,
        // A moderator deletes the messages of those ranked below them (a former member ranks lowest).
        canDelete: mine || (!direct && outranks(room.viewerRole, room.members.get(message.author.id)?.role)),
        // Reports are for others' messages in GROUP rooms; one per reporter and message.
        canReport: !mine && !direct,
        reporting: room.ui.reporting === message.id,
        reported: room.ui.reported.has(message.id),
        editing: room.ui.editing === message.id,
        confirmingDelete: room.ui.confirmingDelete === message.id,
        pickerOpen: room.ui.picker === message.id,
        highlighted: room.ui.highlighted === message.seq,
        menuOpen: room.ui.menu === message.id,
        // Pins: MODERATOR and above in GROUP rooms, either member in DIRECT ones.
        canPin: direct || moderates(room.viewerRole),
        // The thread open beside the room is being read: its root shows nothing unread.
        threadUnread: room.thread?.rootId === message.id && threadInView ? 0 : (message.thread?.unreadCount ?? 0),
        threadOpen: room.thread?.rootId === message.id,
      };
      const shown = message;
      items.push({
        key: `m:${message.seq}`,
        signature: messageSignature(message, look),
        build: () => messageView(shown, me, look, actions),
      });
      previous = message;
    }
    const storedIds = new Set(
      room.timeline
        .list()
        .map((m) => m.clientId)
        .filter(Boolean),
    );
    for (const message of pending) {
      // A thread's replies wait in its panel; those sent to the room too show here as well.
      if (storedIds.has(message.clientId) || (message.threadRootId && !message.showInRoom)) continue;
      items.push({
        key: `o:${message.clientId}`,
        signature: JSON.stringify([message.state, message.error]),
        build: () =>
          outgoingView(
            message,
            me,
            () => this.options.onRetry(message.clientId),
            () => this.options.onDiscard(message.clientId),
          ),
      });
    }
    return items;
  }

  /** Puts the items' elements in order, building only those new or changed, and keeps focus on what had it. */
  private reconcile(items: Item[]): void {
    let refocus = this.messages.reconcile(items);
    const request = this.focusRequest;
    this.focusRequest = null;
    if (request) {
      const element = this.messages.get(`m:${request.seq}`);
      if (element) refocus = { element, key: request.key };
    }
    if (refocus) focusIn(refocus.element, refocus.key);
  }
}

import type { UserFieldsFragment } from '../../client/index.js';
import { h } from './dom.js';
import type { OutgoingMessage } from './outbox.js';
import type { OpenRoom } from './state.js';
import { messageView, outgoingView } from './views.js';

/** Within this many pixels of the top, the reader is at the older end and more history is wanted. */
const NEAR_TOP = 80;
/** Within this many pixels of the bottom, the reader follows new messages down. */
const NEAR_BOTTOM = 40;

export interface MessageListOptions {
  me: UserFieldsFragment;
  /** The reader scrolled, or the history is too short to fill the pane: older messages may be due. */
  onWantOlder(): void;
  onRetry(clientId: string): void;
  onDiscard(clientId: string): void;
}

/** The open room's messages, stored and outgoing, in a pane that scrolls, and the room's notice under it. */
export class MessageList {
  readonly scroller: HTMLElement;
  readonly notice: HTMLElement;
  private readonly messages: HTMLElement;

  constructor(private readonly options: MessageListOptions) {
    this.messages = h('ol', { class: 'messages', 'data-testid': 'messages' });
    this.scroller = h(
      'div',
      { class: 'scroller', 'data-testid': 'scroller', onscroll: () => options.onWantOlder() },
      this.messages,
    );
    this.notice = h('p', { class: 'notice', 'data-testid': 'room-notice' });
  }

  /** Scrolled down past the point where older messages are loaded. */
  get awayFromTop(): boolean {
    return this.scroller.scrollTop > NEAR_TOP;
  }

  scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /**
   * Redraws the list, keeping the reader where they were: at the bottom as
   * messages arrive, on the same message as older ones load above. With no
   * room open the list empties and the notice stays as it was.
   */
  render(room: OpenRoom | null, pending: readonly OutgoingMessage[]): void {
    if (!room) return this.messages.replaceChildren();
    const { scroller, options } = this;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM;
    const before = scroller.scrollHeight;
    const topBefore = scroller.scrollTop;
    const stored = room.timeline.list();
    const storedIds = new Set(stored.map((m) => m.clientId).filter(Boolean));
    const head = room.timeline.hasOlder
      ? h(
          'li',
          { class: 'older', 'data-testid': 'older' },
          room.loadingOlder ? 'Loading older messages…' : 'Scroll up for older messages',
        )
      : h('li', { class: 'older start', 'data-testid': 'room-start' }, 'The start of the room');
    this.messages.replaceChildren(
      head,
      ...stored.map((m) => messageView(m, options.me)),
      ...pending
        .filter((m) => !storedIds.has(m.clientId))
        .map((m) =>
          outgoingView(
            m,
            options.me,
            () => options.onRetry(m.clientId),
            () => options.onDiscard(m.clientId),
          ),
        ),
    );
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
    else scroller.scrollTop = topBefore + (scroller.scrollHeight - before) * Number(topBefore < NEAR_TOP);
    this.notice.textContent = room.error ?? '';
    // A short history does not fill the pane, so no scroll would ever ask for more: ask now.
    if (scroller.scrollHeight <= scroller.clientHeight + 1) options.onWantOlder();
  }
}

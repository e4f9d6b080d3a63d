import type { UserFieldsFragment } from '../../client/index.js';
import type { Composer } from './composer.js';
import { h } from './dom.js';
import { KeyedList, type Item } from './keyed-list.js';
import { messageSignature, messageView, outgoingView, READ_ONLY, type MessageLook } from './message-view.js';
import type { OutgoingMessage } from './outbox.js';
import type { OpenThread } from './state.js';
import { excerpt, textOf } from './text.js';

/** Within this many pixels of the bottom, the reader follows new replies down. */
const NEAR_BOTTOM = 40;

export interface ThreadPanelHandlers {
  onClose(): void;
  onToggleFollow(): void;
  onWantOlder(): void;
  onRetry(clientId: string): void;
  onDiscard(clientId: string): void;
}

/**
 * The thread beside the room (over it, on a narrow screen): its root, its
 * replies as a polite live log (updated in place, so only new replies are
 * announced), the viewer's Follow toggle, and a box to reply in, with the
 * same @-mention picker as the room's.
 */
export class ThreadPanel {
  readonly element: HTMLElement;
  private readonly heading = h('h2', { id: 'thread-heading', tabindex: -1 }, 'Thread');
  private readonly about = h('p', { class: 'hint', 'data-testid': 'thread-about' });
  private readonly follow: HTMLButtonElement;
  private readonly root = new KeyedList(
    h('ul', { class: 'thread-root', 'aria-label': 'The message that started the thread', 'data-testid': 'thread-root' }),
  );
  private readonly count = h('p', { class: 'thread-count', 'data-testid': 'thread-count' });
  private readonly older: HTMLButtonElement;
  private readonly replies = new KeyedList(h('ol', { class: 'messages', 'data-testid': 'thread-replies' }));
  private readonly body: HTMLElement;
  private readonly notice = h('p', { class: 'notice error', role: 'alert', 'data-testid': 'thread-notice' });

  constructor(
    private readonly me: UserFieldsFragment,
    readonly composer: Composer,
    private readonly handlers: ThreadPanelHandlers,
  ) {
    this.follow = h(
      'button',
      {
        type: 'button',
        class: 'secondary follow',
        'aria-pressed': 'false',
        'data-testid': 'follow-thread',
        title: 'Followers are told of new replies',
        onclick: () => handlers.onToggleFollow(),
      },
      h('span', { class: 'check', 'aria-hidden': 'true' }),
      'Follow',
    ) as HTMLButtonElement;
    this.older = h(
      'button',
      { type: 'button', class: 'secondary', 'data-testid': 'thread-older', hidden: true, onclick: () => handlers.onWantOlder() },
      'Show older replies',
    ) as HTMLButtonElement;
    this.body = h(
      'div',
      { class: 'thread-body', tabindex: 0, 'aria-label': 'The thread', 'data-testid': 'thread-body' },
      this.root.element,
      this.count,
      this.older,
      h('div', { role: 'log', 'aria-live': 'polite', 'aria-label': 'Replies in this thread' }, this.replies.element),
    );
    this.element = h(
      'section',
      {
        id: 'thread-panel',
        class: 'thread-panel',
        'aria-labelledby': 'thread-heading',
        'data-testid': 'thread-panel',
        hidden: true,
        onkeydown: (event: Event) => {
          const key = event as KeyboardEvent;
          // Escape in the box closes its mention picker first (the picker stops it there).
          if (key.key === 'Escape' && !key.defaultPrevented) handlers.onClose();
        },
      },
      h(
        'div',
        { class: 'panel-head' },
        h('div', { class: 'thread-heading' }, this.heading, this.about),
        h(
          'div',
          { class: 'row' },
          this.follow,
          h(
            'button',
            { type: 'button', class: 'secondary', 'data-testid': 'close-thread', onclick: () => handlers.onClose() },
            'Close',
          ),
        ),
      ),
      this.body,
      this.notice,
      composer.element,
    );
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  focusHeading(): void {
    this.heading.focus();
  }

  scrollToBottom(): void {
    this.body.scrollTop = this.body.scrollHeight;
  }

  /** Brings a reply into view and gives it focus; false when it is not shown. */
  scrollToReply(seq: number): boolean {
    const element = this.replies.get(`m:${seq}`);
    if (!element?.isConnected) return false;
    element.scrollIntoView({ block: 'center' });
    element.focus({ preventScroll: true });
    return true;
  }

  /** Shows the thread (hidden when null), keeping the reader at the bottom as replies arrive. */
  render(thread: OpenThread | null, pending: readonly OutgoingMessage[], roomName: string | null): void {
    this.element.hidden = thread === null;
    if (!thread) {
      this.root.clear();
      this.replies.clear();
      this.notice.textContent = '';
      return;
    }
    const { body } = this;
    const atBottom = body.scrollHeight - body.scrollTop - body.clientHeight < NEAR_BOTTOM;
    const root = thread.root;
    this.about.textContent = root
      ? `${roomName ? `In ${roomName}, started` : 'Started'} by ${root.author.username}: “${excerpt(root.deletedAt ? 'a deleted message' : textOf(root.body), 60)}”`
      : roomName
        ? `In ${roomName}`
        : '';
    const following = thread.summary?.viewerSubscribed ?? false;
    this.follow.setAttribute('aria-pressed', String(following));
    this.follow.querySelector('.check')!.textContent = following ? '✓ ' : '';

    this.root.reconcile(
      root
        ? [
            {
              key: `root:${root.id}`,
              signature: messageSignature(root, READ_ONLY),
              build: () => messageView(root, this.me, READ_ONLY, null, 'thread-root'),
            },
          ]
        : [
            {
              key: 'no-root',
              signature: 'no-root',
              build: () => h('li', { class: 'hint' }, 'The message that started this thread is further back in the room.'),
            },
          ],
    );
    const held = thread.replies.list().length;
    const total = Math.max(thread.summary?.replyCount ?? 0, held);
    this.count.textContent = thread.loading
      ? 'Loading replies…'
      : total === 0
        ? 'No replies yet: start the thread below.'
        : `${total} ${total === 1 ? 'reply' : 'replies'}`;
    this.older.hidden = !thread.replies.hasOlder;
    this.older.disabled = thread.loadingOlder;

    this.replies.reconcile(this.items(thread, pending));
    this.notice.textContent = thread.error ?? '';
    if (atBottom && thread.target === null) this.scrollToBottom();
  }

  private items(thread: OpenThread, pending: readonly OutgoingMessage[]): Item[] {
    const items: Item[] = thread.replies.list().map((reply) => {
      const look: MessageLook = { ...READ_ONLY, mine: reply.author.id === this.me.id, highlighted: reply.seq === thread.target };
      return {
        key: `m:${reply.seq}`,
        signature: messageSignature(reply, look),
        build: () => messageView(reply, this.me, look, null, 'thread-message'),
      };
    });
    const stored = new Set(thread.replies.list().map((m) => m.clientId));
    for (const message of pending) {
      if (stored.has(message.clientId)) continue;
      items.push({
        key: `o:${message.clientId}`,
        signature: JSON.stringify([message.state, message.error]),
        build: () =>
          outgoingView(
            message,
            this.me,
            () => this.handlers.onRetry(message.clientId),
            () => this.handlers.onDiscard(message.clientId),
          ),
      });
    }
    return items;
  }
}

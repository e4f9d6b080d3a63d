import type { UserFieldsFragment } from '../../client/index.js';
import { h } from './dom.js';
import { MentionPicker } from './mentions.js';
import { restrictionText, type Restriction } from './moderation.js';
import { codePoints, COUNTER_FROM, excerpt, MAX_BODY } from './text.js';
import type { Message } from './timeline.js';

export interface ComposerHandlers {
  /** A key in the box. */
  onTyped(): void;
  onSend(): void;
  onCancelReply(): void;
}

export interface ComposerOptions extends ComposerHandlers {
  /** The box's id (the prefix of its parts' ids): one page may hold two composers, the room's and a thread's. */
  id: string;
  /** The box's label for the open room's name (null: no room open). */
  label(roomName: string | null): string;
  /** The open room's members, whom the @-mention picker offers. */
  members(): UserFieldsFragment[];
  me: UserFieldsFragment;
  /** A thread's box: a choice to send the reply to the room too (showInRoom). */
  alsoToRoom?: boolean;
}

/**
 * Where messages are written: the box, what the next message replies to,
 * the @-mention picker, and a counter that appears near the contract's 4,000
 * characters. Nothing typed or pasted is ever cut: past the limit the
 * counter says by how much, and sending is refused until it fits.
 */
export class Composer {
  readonly element: HTMLElement;
  private readonly box: HTMLTextAreaElement;
  private readonly picker: MentionPicker;
  private readonly toRoom: HTMLInputElement | null;
  private readonly sendButton: HTMLButtonElement;
  private readonly counter: HTMLElement;
  private readonly replying: HTMLElement;
  private readonly label: HTMLElement;
  /** Why the viewer cannot post now, with the time left (updated each second, so not itself a live region). */
  private readonly restriction: HTMLElement;
  /** Says a new restriction once to a screen reader (the ticking countdown would repeat it every second). */
  private readonly announcer: HTMLElement;
  private announced: string | null = null;
  private enabled = false;

  constructor(private readonly options: ComposerOptions) {
    const handlers = options;
    const id = options.id;
    // The room's box keeps the page's first test ids; a thread's has its id in front of each.
    const testid = (name: string) => (id === 'composer' ? name : `${id}-${name}`);
    this.box = h('textarea', {
      id,
      rows: 2,
      dir: 'auto',
      'data-testid': id,
      'aria-describedby': `${id}-counter`,
      disabled: true,
      oninput: () => {
        this.update();
        this.picker.update();
        handlers.onTyped();
      },
      onkeyup: (event: Event) => {
        const key = (event as KeyboardEvent).key;
        // The caret moved: the @-word at it may have changed.
        if (key.startsWith('Arrow') || key === 'Home' || key === 'End') {
          if (!this.picker.isOpen || (key !== 'ArrowUp' && key !== 'ArrowDown')) this.picker.update();
        }
      },
      onkeydown: (event: Event) => {
        const key = event as KeyboardEvent;
        if (this.picker.handleKey(key)) return;
        if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
          key.preventDefault();
          handlers.onSend();
        }
        if (key.key === 'Escape' && !this.replying.hidden) handlers.onCancelReply();
      },
    }) as HTMLTextAreaElement;
    this.picker = new MentionPicker(this.box, {
      id,
      members: () => options.members(),
      meId: options.me.id,
      onChange: () => this.update(),
    });
    this.sendButton = h(
      'button',
      { type: 'submit', class: 'send', 'data-testid': testid('send'), disabled: true },
      'Send',
    ) as HTMLButtonElement;
    this.counter = h('p', { id: `${id}-counter`, class: 'counter', 'data-testid': testid('char-counter') });
    this.replying = h('div', { class: 'replying', 'data-testid': testid('replying'), hidden: true });
    this.label = h('label', { for: id, class: 'visually-hidden' }, options.label(null));
    this.restriction = h('p', { class: 'restriction', 'data-testid': testid('restriction'), hidden: true });
    this.announcer = h('p', { class: 'visually-hidden', role: 'status' });
    this.toRoom = options.alsoToRoom
      ? (h('input', { id: `${id}-to-room`, type: 'checkbox', 'data-testid': testid('to-room') }) as HTMLInputElement)
      : null;
    this.element = h(
      'form',
      {
        class: 'composer',
        onsubmit: (event: Event) => {
          event.preventDefault();
          handlers.onSend();
        },
      },
      this.restriction,
      this.announcer,
      this.picker.announcer,
      this.replying,
      this.label,
      this.picker.element,
      h('div', { class: 'row' }, this.box, this.sendButton),
      this.toRoom
        ? h('div', { class: 'check' }, this.toRoom, h('label', { for: this.toRoom.id }, 'Also send to the room'))
        : null,
      this.counter,
    );
    this.cancelReply = () => handlers.onCancelReply();
  }

  private readonly cancelReply: () => void;

  /** Enabled with a room open; the label names the room. */
  setRoom(name: string | null): void {
    this.enabled = name !== null;
    this.box.disabled = !this.enabled;
    this.label.textContent = this.options.label(name);
    this.update();
  }

  /** Shows why sending is refused now, and for how long; null hides it. Called again each second while it counts down. */
  setRestriction(restriction: Restriction | null): void {
    this.restriction.hidden = restriction === null;
    this.restriction.dataset.reason = restriction?.reason ?? '';
    const text = restriction ? restrictionText(restriction) : '';
    this.restriction.textContent = text;
    const key = restriction ? `${restriction.reason}:${restriction.until}` : null;
    if (key !== this.announced) {
      this.announced = key;
      this.announcer.textContent = restriction ? text : this.enabled ? 'You can send messages here again.' : '';
    }
  }

  setReplyTo(message: Message | null): void {
    this.replying.hidden = message === null;
    if (!message) return this.replying.replaceChildren();
    this.replying.replaceChildren(
      h(
        'span',
        {},
        'Replying to ',
        h('strong', {}, message.author.username),
        ': ',
        h('span', { dir: 'auto' }, excerpt(message.body, 60)),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-testid': 'cancel-reply',
          'aria-label': 'Cancel the reply',
          onclick: this.cancelReply,
        },
        'Cancel',
      ),
    );
  }

  /** The text to send, or null when it is empty or too long (the counter says so). */
  get draft(): string | null {
    const text = this.box.value;
    if (text.trim() === '' || codePoints(text) > MAX_BODY) return null;
    return text;
  }

  /** Whether the draft is over the limit: a send refused for that is said, never done. */
  get overLimit(): boolean {
    return codePoints(this.box.value) > MAX_BODY;
  }

  /** The ids of the members the draft mentions (picked with @, and still in the text). */
  get mentions(): string[] {
    return this.picker.mentions();
  }

  /** A thread's box: whether the reply goes to the room too. */
  get showInRoom(): boolean {
    return this.toRoom?.checked ?? false;
  }

  clear(): void {
    this.box.value = '';
    this.picker.clear();
    if (this.toRoom) this.toRoom.checked = false;
    this.update();
  }

  focus(): void {
    this.box.focus();
  }

  private update(): void {
    const length = codePoints(this.box.value);
    const over = length - MAX_BODY;
    this.counter.classList.toggle('over', over > 0);
    this.counter.textContent =
      over > 0
        ? `${over.toLocaleString()} character${over === 1 ? '' : 's'} over the limit of ${MAX_BODY.toLocaleString()}: shorten it to send.`
        : length >= COUNTER_FROM
          ? `${Math.max(0, -over).toLocaleString()} character${over === -1 ? '' : 's'} left.`
          : '';
    this.box.setAttribute('aria-invalid', String(over > 0));
    this.sendButton.disabled = !this.enabled || over > 0;
  }
}

import type { UserFieldsFragment } from '../../client/index.js';
import { h } from './dom.js';

/**
 * Mentions as the composer makes them. The server never reads mentions from
 * the text: a message names the members it mentions by id (`mentions`). So
 * the picker does both: it writes `@username` into the text, for the reader,
 * and records that user's id, which goes out with the message as long as
 * the text still holds the `@username` it wrote.
 */

/** The characters of a username (the contract's usernames: letters, digits, dots, dashes, underscores). */
const NAME_CHAR = '[A-Za-z0-9_.-]';
/** The @-word just before the caret: an `@` at the start or after a space, then what is typed of a name. */
const TYPING_MENTION = new RegExp(`(?:^|\\s)@(${NAME_CHAR}{0,32})$`);
/** How many people the picker offers at once. */
const MAX_CANDIDATES = 8;

/** The @-word being typed at the caret: where its `@` is and what follows it; null when the caret is not in one. */
export function mentionQueryAt(text: string, caret: number): { start: number; query: string } | null {
  const match = TYPING_MENTION.exec(text.slice(0, caret));
  if (!match) return null;
  const query = match[1]!;
  return { start: caret - query.length - 1, query };
}

/** The text with the @-word from `start` to `caret` replaced by `@username ` and where the caret goes after it. */
export function insertMention(text: string, start: number, caret: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  const rest = text.slice(caret).replace(/^ /, '');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

/**
 * The ids of the recorded mentions (username to id) whose `@username` the
 * text still holds as a word of its own: one taken out of the text is not
 * sent. A full stop right after the name (the end of a sentence) keeps it.
 */
export function mentionedIds(text: string, recorded: ReadonlyMap<string, string>): string[] {
  const ids: string[] = [];
  for (const [username, id] of recorded) {
    const word = new RegExp(`(?:^|\\s)@${escapeRegExp(username)}(?![A-Za-z0-9_-]|\\.${NAME_CHAR})`, 'i');
    if (word.test(text) && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** The members whose username starts with `query` (any case), online first, the viewer left out. */
export function mentionCandidates(members: readonly UserFieldsFragment[], query: string, meId: string): UserFieldsFragment[] {
  const prefix = query.toLowerCase();
  return members
    .filter((user) => user.id !== meId && user.username.toLowerCase().startsWith(prefix))
    .sort((a, b) => Number(b.online) - Number(a.online) || a.username.localeCompare(b.username))
    .slice(0, MAX_CANDIDATES);
}

export interface MentionPickerOptions {
  /** The prefix of the picker's element ids (one picker per message box). */
  id: string;
  /** The open room's members, as the members panel knows them. */
  members(): UserFieldsFragment[];
  meId: string;
  /** The text changed (a mention was put in). */
  onChange(): void;
}

/**
 * The @-mention picker of one message box: typing `@` and the start of a
 * name lists the room's members who match, above the box. The box keeps the
 * focus (the list is its `aria-activedescendant`, as in a combobox): the
 * arrow keys move through the list, Enter or Tab picks, Escape closes; a
 * click or tap picks too.
 */
export class MentionPicker {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly status: HTMLElement;
  /** username → id of each member picked since the box was last cleared. */
  private readonly recorded = new Map<string, string>();
  private candidates: UserFieldsFragment[] = [];
  private active = 0;
  private query: { start: number; query: string } | null = null;

  constructor(
    private readonly box: HTMLTextAreaElement,
    private readonly options: MentionPickerOptions,
  ) {
    this.list = h('ul', {
      id: `${options.id}-mentions`,
      class: 'mention-list',
      role: 'listbox',
      'aria-label': 'People to mention',
      'data-testid': `${options.id}-mentions`,
    });
    this.status = h('p', { class: 'visually-hidden', role: 'status' });
    this.element = h('div', { class: 'mention-picker', hidden: true }, this.list);
    box.setAttribute('aria-autocomplete', 'list');
    box.addEventListener('click', () => this.update());
    box.addEventListener('blur', () => this.close());
  }

  /** The visually hidden status that says how many people match (placed by the composer). */
  get announcer(): HTMLElement {
    return this.status;
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  /** The ids of the members mentioned in the box's text now. */
  mentions(): string[] {
    return mentionedIds(this.box.value, this.recorded);
  }

  clear(): void {
    this.recorded.clear();
    this.close();
  }

  /** After each change of the text or the caret: the @-word at the caret, if any, and who matches it. */
  update(): void {
    const query = mentionQueryAt(this.box.value, this.box.selectionStart ?? this.box.value.length);
    if (!query) return this.close();
    const members = this.options.members();
    const candidates = mentionCandidates(members, query.query, this.options.meId);
    if (candidates.length === 0) return this.close();
    const same = this.candidates.map((u) => u.id).join() === candidates.map((u) => u.id).join();
    this.query = query;
    this.candidates = candidates;
    if (!same) this.active = 0;
    this.render();
  }

  /** A key in the box: true when the picker used it (the box must not act on it then). */
  handleKey(event: KeyboardEvent): boolean {
    if (!this.isOpen || event.isComposing) return false;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        const step = event.key === 'ArrowDown' ? 1 : -1;
        this.active = (this.active + step + this.candidates.length) % this.candidates.length;
        this.render();
        break;
      }
      case 'Enter':
      case 'Tab':
        if (event.shiftKey) return false;
        this.pick(this.candidates[this.active]!);
        break;
      case 'Escape':
        this.close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    event.stopPropagation();
    return true;
  }

  private pick(user: UserFieldsFragment): void {
    const query = this.query;
    if (!query) return;
    const caret = query.start + 1 + query.query.length;
    const next = insertMention(this.box.value, query.start, caret, user.username);
    this.box.value = next.text;
    this.box.setSelectionRange(next.caret, next.caret);
    this.recorded.set(user.username, user.id);
    this.close();
    this.status.textContent = `${user.username} mentioned.`;
    this.box.focus();
    this.options.onChange();
  }

  private close(): void {
    if (!this.isOpen) return;
    this.element.hidden = true;
    this.candidates = [];
    this.query = null;
    this.box.removeAttribute('aria-activedescendant');
    this.box.removeAttribute('aria-controls');
    this.list.replaceChildren();
  }

  private render(): void {
    const optionId = (i: number) => `${this.options.id}-mention-${i}`;
    this.list.replaceChildren(
      ...this.candidates.map((user, i) =>
        h(
          'li',
          {
            id: optionId(i),
            role: 'option',
            class: i === this.active ? 'mention-option active' : 'mention-option',
            'aria-selected': String(i === this.active),
            'data-testid': 'mention-option',
            'data-username': user.username,
            // The box keeps the focus (and its caret) while the list is pressed.
            onmousedown: (event: Event) => event.preventDefault(),
            onclick: () => this.pick(user),
          },
          h('span', { class: 'name' }, `@${user.username}`),
          h('span', { class: user.online ? 'presence online' : 'presence' }, user.online ? 'online' : 'offline'),
        ),
      ),
    );
    const wasOpen = this.isOpen;
    this.element.hidden = false;
    this.box.setAttribute('aria-controls', this.list.id);
    this.box.setAttribute('aria-activedescendant', optionId(this.active));
    if (!wasOpen) {
      const n = this.candidates.length;
      this.status.textContent = `${n} ${n === 1 ? 'person' : 'people'} to mention: up and down arrows to choose, Enter to pick.`;
    }
  }
}

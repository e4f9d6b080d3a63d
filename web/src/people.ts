import type { UserFieldsFragment } from '../../client/index.js';
import { describe } from './api.js';
import { h } from './dom.js';

/** Type-ahead waits this long after the last key before asking (the server limits how often one may). */
const DEBOUNCE_MS = 250;

export interface PeopleFinderOptions {
  /** The input's id, and the prefix of its parts' ids. */
  id: string;
  label: string;
  /** What the button beside each person does ("Message", "Invite"). */
  action: string;
  /** data-testid of the input, the result list and each action button: `${testid}-input`, `${testid}-results`, `${testid}-pick`. */
  testid: string;
  find(query: string): Promise<UserFieldsFragment[]>;
  /** People not to list (oneself, members already in the room). */
  exclude(): Set<string>;
  onPick(user: UserFieldsFragment): void | Promise<void>;
}

/**
 * Finding someone by the start of their username (Query.users), as they
 * type or on Enter, each found person with their presence in words and one
 * action: opening a direct conversation, or inviting them to the room.
 */
export class PeopleFinder {
  readonly element: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly results: HTMLElement;
  private readonly status: HTMLElement;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Answers to earlier queries that arrive late are dropped. */
  private asked = 0;

  constructor(private readonly options: PeopleFinderOptions) {
    this.input = h('input', {
      id: options.id,
      type: 'search',
      autocomplete: 'off',
      autocapitalize: 'none',
      spellcheck: 'false',
      maxlength: 32,
      'data-testid': `${options.testid}-input`,
      'aria-describedby': `${options.id}-status`,
      oninput: () => this.schedule(),
    }) as HTMLInputElement;
    this.results = h('ul', {
      class: 'people',
      'data-testid': `${options.testid}-results`,
      'aria-label': `${options.label}: results`,
    });
    this.status = h('p', {
      id: `${options.id}-status`,
      class: 'hint',
      'aria-live': 'polite',
      'data-testid': `${options.testid}-status`,
    });
    this.element = h(
      'form',
      {
        class: 'finder',
        role: 'search',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.search();
        },
      },
      h('label', { for: options.id }, options.label),
      h('div', { class: 'row' }, this.input, h('button', { type: 'submit', class: 'secondary' }, 'Find')),
      this.status,
      this.results,
    );
  }

  focus(): void {
    this.input.focus();
  }

  clear(): void {
    this.input.value = '';
    this.results.replaceChildren();
    this.status.textContent = '';
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.search(), DEBOUNCE_MS);
  }

  private async search(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const query = this.input.value.trim();
    const asked = ++this.asked;
    if (!query) {
      this.results.replaceChildren();
      this.status.textContent = '';
      return;
    }
    try {
      const found = await this.options.find(query);
      if (asked !== this.asked) return;
      const excluded = this.options.exclude();
      const people = found.filter((user) => !excluded.has(user.id));
      this.status.textContent =
        people.length === 0
          ? `Nobody else’s username starts with “${query}”.`
          : `${people.length} ${people.length === 1 ? 'person' : 'people'} found.`;
      this.results.replaceChildren(...people.map((user) => this.item(user)));
    } catch (error) {
      if (asked === this.asked) this.status.textContent = describe(error);
    }
  }

  private item(user: UserFieldsFragment): HTMLElement {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'data-testid': `${this.options.testid}-pick`,
        'data-username': user.username,
        'aria-label': `${this.options.action} ${user.username}`,
        onclick: () => {
          // One pick at a time: a second tap while the first is on its way does nothing.
          button.setAttribute('disabled', '');
          void Promise.resolve(this.options.onPick(user)).finally(() => button.removeAttribute('disabled'));
        },
      },
      this.options.action,
    );
    return h(
      'li',
      { class: 'person', 'data-username': user.username },
      h('span', { class: 'name' }, user.username),
      h('span', { class: user.online ? 'presence online' : 'presence' }, user.online ? 'online' : 'offline'),
      button,
    );
  }
}

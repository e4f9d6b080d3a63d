import { h } from './dom.js';

export type AuthMode = 'login' | 'register';

/** What register accepts (the contract's username rule), checked before asking. */
const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

const TEXT: Record<AuthMode, { submit: string; busy: string; password: string }> = {
  login: { submit: 'Sign in', busy: 'Signing in…', password: 'current-password' },
  register: { submit: 'Create account', busy: 'Creating your account…', password: 'new-password' },
};

/**
 * The sign-in page: signing in and creating an account are two modes of one
 * form, chosen with two buttons, so Enter does what the page says (a new user
 * who picked "Create account" never gets "Wrong username or password"). The
 * form stays on the page through a refusal, keeping what was typed, and says
 * in the alert under it what was wrong.
 */
export class AuthView {
  readonly element: HTMLElement;
  private mode: AuthMode = 'login';
  private readonly username: HTMLInputElement;
  private readonly password: HTMLInputElement;
  private readonly submit: HTMLButtonElement;
  private readonly error: HTMLElement;
  private readonly hints: HTMLElement[];
  private readonly modeButtons: Record<AuthMode, HTMLButtonElement>;

  constructor(onSubmit: (mode: AuthMode, username: string, password: string) => void) {
    this.username = h('input', {
      id: 'auth-username',
      name: 'username',
      autocomplete: 'username',
      autocapitalize: 'none',
      spellcheck: 'false',
      required: true,
      'data-testid': 'username',
      'aria-describedby': 'auth-username-hint',
    }) as HTMLInputElement;
    this.password = h('input', {
      id: 'auth-password',
      name: 'password',
      type: 'password',
      autocomplete: TEXT.login.password,
      required: true,
      'data-testid': 'password',
      'aria-describedby': 'auth-password-hint',
    }) as HTMLInputElement;
    this.submit = h('button', { type: 'submit', 'data-testid': 'auth-submit' }, TEXT.login.submit) as HTMLButtonElement;
    this.error = h('p', { class: 'error', role: 'alert', 'data-testid': 'auth-error' });
    this.hints = [
      h('p', { id: 'auth-username-hint', class: 'hint', hidden: true }, '3 to 32 letters, digits, dots, dashes or underscores.'),
      h('p', { id: 'auth-password-hint', class: 'hint', hidden: true }, 'At least 8 characters.'),
    ];
    const modeButton = (mode: AuthMode, label: string, testid: string) =>
      h(
        'button',
        {
          type: 'button',
          class: 'mode',
          'data-testid': testid,
          'aria-pressed': String(mode === 'login'),
          onclick: () => this.setMode(mode),
        },
        label,
      ) as HTMLButtonElement;
    this.modeButtons = {
      login: modeButton('login', 'Sign in', 'mode-sign-in'),
      register: modeButton('register', 'Create account', 'mode-sign-up'),
    };
    const form = h(
      'form',
      {
        class: 'auth',
        novalidate: true,
        'aria-labelledby': 'auth-title',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const problem = this.check();
          if (problem) return this.setError(problem);
          onSubmit(this.mode, this.username.value.trim(), this.password.value);
        },
      },
      h('h1', { id: 'auth-title' }, 'Chat'),
      h(
        'div',
        { class: 'modes', role: 'group', 'aria-label': 'Sign in or create an account' },
        this.modeButtons.login,
        this.modeButtons.register,
      ),
      h('label', { for: 'auth-username' }, 'Username'),
      this.username,
      this.hints[0],
      h('label', { for: 'auth-password' }, 'Password'),
      this.password,
      this.hints[1],
      this.submit,
      this.error,
    );
    this.element = h('main', { class: 'auth-page' }, form);
  }

  setMode(mode: AuthMode): void {
    this.mode = mode;
    for (const [which, button] of Object.entries(this.modeButtons)) button.setAttribute('aria-pressed', String(which === mode));
    this.submit.textContent = TEXT[mode].submit;
    this.password.autocomplete = TEXT[mode].password as AutoFill;
    for (const hint of this.hints) hint.hidden = mode !== 'register';
    this.setError(null);
  }

  setBusy(busy: boolean): void {
    this.submit.disabled = busy;
    this.submit.textContent = busy ? TEXT[this.mode].busy : TEXT[this.mode].submit;
    this.element.setAttribute('aria-busy', String(busy));
  }

  /** Says what was wrong (null clears it); what was typed stays. */
  setError(text: string | null): void {
    this.error.textContent = text ?? '';
  }

  focus(): void {
    (this.username.value ? this.password : this.username).focus();
  }

  /** What is wrong before asking the server: empty fields, and for a new account the contract's rules. */
  private check(): string | null {
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) return 'Enter a username and a password.';
    if (this.mode === 'register') {
      if (!USERNAME.test(username)) return 'A username is 3 to 32 letters, digits, dots, dashes or underscores.';
      if ([...password].length < 8) return 'A password is at least 8 characters.';
      if ([...password].length > 256) return 'A password is at most 256 characters.';
    }
    return null;
  }
}

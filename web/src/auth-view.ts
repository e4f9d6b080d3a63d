import { h } from './dom.js';

/** The sign-in form: one username and password, two ways in. */
export function authView(handlers: {
  onSubmit(mode: 'login' | 'register', username: string, password: string): void;
  error: string | null;
  busy: boolean;
}): HTMLElement {
  let mode: 'login' | 'register' = 'login';
  const username = h('input', {
    name: 'username',
    autocomplete: 'username',
    required: true,
    'data-testid': 'username',
    maxlength: 32,
  });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'password',
  });
  const submit = (chosen: 'login' | 'register') => () => (mode = chosen);
  const form = h(
    'form',
    {
      class: 'auth',
      onsubmit: (event: Event) => {
        event.preventDefault();
        handlers.onSubmit(mode, (username as HTMLInputElement).value.trim(), (password as HTMLInputElement).value);
      },
    },
    h('h1', {}, 'Chat'),
    h('label', {}, 'Username', username),
    h('label', {}, 'Password', password),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', onclick: submit('login'), 'data-testid': 'sign-in', disabled: handlers.busy }, 'Sign in'),
      h(
        'button',
        { type: 'submit', class: 'secondary', onclick: submit('register'), 'data-testid': 'sign-up', disabled: handlers.busy },
        'Create account',
      ),
    ),
    handlers.error ? h('p', { class: 'error', role: 'alert', 'data-testid': 'auth-error' }, handlers.error) : null,
  );
  return form;
}

import { LoginDocument, RegisterDocument } from '../../client/index.js';
import { describeAuthError, httpRequest } from './api.js';
import { AuthView, type AuthMode } from './auth-view.js';
import { mountChat } from './chat.js';
import { sessionStore } from './session.js';

const root = document.getElementById('app')!;

/** The sign-in page; `notice` says why it is shown again (a session that ended). */
function showAuth(notice: string | null = null) {
  const view = new AuthView((mode, username, password) => void signIn(view, mode, username, password));
  view.setError(notice);
  root.replaceChildren(view.element);
  view.focus();
}

async function signIn(view: AuthView, mode: AuthMode, username: string, password: string) {
  view.setBusy(true);
  view.setError(null);
  try {
    const input = { username, password };
    const payload =
      mode === 'register'
        ? (await httpRequest(RegisterDocument, { input }, null)).register
        : (await httpRequest(LoginDocument, { input }, null)).login;
    sessionStore.save({ token: payload.token, user: payload.user });
    showChat();
  } catch (error) {
    view.setBusy(false);
    view.setError(describeAuthError(mode, error));
  }
}

function showChat() {
  const session = sessionStore.load();
  if (!session) return showAuth();
  mountChat(root, {
    session,
    onToken: (token) => sessionStore.save({ ...session, token }),
    onSignedOut: (reason) => {
      sessionStore.clear();
      showAuth(reason);
    },
  });
}

showChat();

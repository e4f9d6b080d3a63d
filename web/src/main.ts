import { LoginDocument, RegisterDocument } from '../../client/index.js';
import { describe, httpRequest } from './api.js';
import { authView } from './auth-view.js';
import { mountChat } from './chat.js';
import { sessionStore } from './session.js';

const root = document.getElementById('app')!;

function showAuth(error: string | null = null, busy = false) {
  root.replaceChildren(
    authView({
      error,
      busy,
      onSubmit: (mode, username, password) => void signIn(mode, username, password),
    }),
  );
}

async function signIn(mode: 'login' | 'register', username: string, password: string) {
  showAuth(null, true);
  try {
    const input = { username, password };
    const payload =
      mode === 'register'
        ? (await httpRequest(RegisterDocument, { input }, null)).register
        : (await httpRequest(LoginDocument, { input }, null)).login;
    sessionStore.save({ token: payload.token, user: payload.user });
    showChat();
  } catch (error) {
    showAuth(describe(error));
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

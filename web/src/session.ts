import type { UserFieldsFragment } from '../../client/index.js';

export interface Session {
  token: string;
  user: UserFieldsFragment;
}

const KEY = 'chat.session';

/** The signed-in user, kept across reloads in localStorage (this origin only). */
export const sessionStore = {
  load(): Session | null {
    try {
      const session = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
      return session && typeof session.token === 'string' && session.user ? session : null;
    } catch {
      return null;
    }
  },
  save(session: Session): void {
    localStorage.setItem(KEY, JSON.stringify(session));
  },
  clear(): void {
    localStorage.removeItem(KEY);
  },
};

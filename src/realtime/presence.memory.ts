import type { Hooks } from './hooks.js';
import type { Presence } from './presence.js';

/** One process: online is having a socket here. */
export function createMemoryPresence(hooks: Hooks): Presence {
  const online = new Set<string>();
  const changed = (userId: string, isOnline: boolean) => hooks.emit('presenceChanged', { userId, online: isOnline });
  return {
    arrived: (userId) => {
      if (online.has(userId)) return;
      online.add(userId);
      changed(userId, true);
    },
    departed: (userId) => {
      if (online.delete(userId)) changed(userId, false);
    },
    isOnline: async (userIds) => userIds.map((id) => online.has(id)),
    start: () => {},
    stop: async () => {
      for (const userId of online) changed(userId, false);
      online.clear();
    },
    abandon: () => online.clear(),
  };
}

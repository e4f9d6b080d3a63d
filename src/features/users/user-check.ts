import DataLoader from 'dataloader';
import type { UserCheck } from '../../auth/token-cache.js';
import { isUnavailableError } from '../../db/errors.js';
import type { UsersStore } from './users.store.js';

/**
 * Whether the user a token names still exists, for the token caches
 * (auth/token-cache.ts). Look-ups of one turn of the event loop go out as
 * one query (the sockets re-checked together by the keep-alive tick, the
 * requests of a busy moment). While the database cannot answer, a token is
 * judged by its signature alone, as before users were checked at all: an
 * outage must not sign everyone out, nor make every socket's handshake
 * fail; the next look-up after it asks again.
 */
export function createUserCheck(store: UsersStore, recheckMs: number): UserCheck {
  const existing = new DataLoader<string, boolean>(
    async (ids) => {
      const found = await store.existingIds([...new Set(ids)]);
      return ids.map((id) => found.has(id));
    },
    { cache: false, maxBatchSize: 10_000 },
  );
  return {
    recheckMs,
    async exists(userId) {
      try {
        return await existing.load(userId);
      } catch (error) {
        if (isUnavailableError(error)) return true;
        throw error;
      }
    },
  };
}

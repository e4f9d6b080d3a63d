import type { Redis } from 'ioredis';
import type { TypingState } from './typing-state.js';

// KEYS: the typing key. ARGV: the token this instance wrote. Deletes it only if nobody refreshed it since.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Across instances: one key per typist and room, holding the latest mark's token, with an expiry. */
export function createRedisTypingState(redis: Redis, prefix: string): TypingState {
  const key = (roomId: string, userId: string) => `${prefix}typing:${roomId}:${userId}`;
  return {
    // The expiry only cleans up after an owner that died; a live owner's lapse timer ends the mark first.
    mark: async (roomId, userId, token, expiresInMs) =>
      (await redis.set(key(roomId, userId), token, 'PX', expiresInMs, 'GET')) !== null,
    clear: async (roomId, userId) => (await redis.del(key(roomId, userId))) > 0,
    release: async (roomId, userId, token) => ((await redis.eval(RELEASE, 1, key(roomId, userId), token)) as number) > 0,
  };
}

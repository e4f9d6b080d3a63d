import type { TypingState } from './typing-state.js';

/** One process: marks in a map, ended by their owner's lapse timer (nothing else could leave one behind). */
export function createMemoryTypingState(): TypingState {
  const marks = new Map<string, string>();
  const key = (roomId: string, userId: string) => `${roomId}:${userId}`;
  return {
    mark: async (roomId, userId, token) => {
      const was = marks.has(key(roomId, userId));
      marks.set(key(roomId, userId), token);
      return was;
    },
    clear: async (roomId, userId) => marks.delete(key(roomId, userId)),
    release: async (roomId, userId, token) => marks.get(key(roomId, userId)) === token && marks.delete(key(roomId, userId)),
  };
}

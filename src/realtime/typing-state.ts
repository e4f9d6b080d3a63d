/**
 * Who is typing where, shared by every instance (typing-state.redis.ts) or
 * kept by this process (typing-state.memory.ts). Never in Postgres. Each mark
 * carries a token, so the instance that owns a user's lapse timer can tell
 * whether someone refreshed the mark since it wrote it.
 */
export interface TypingState {
  /** Marks the user typing in the room with `token`; true when they were typing already. */
  mark(roomId: string, userId: string, token: string, expiresInMs: number): Promise<boolean>;
  /** Clears the mark; true when there was one. */
  clear(roomId: string, userId: string): Promise<boolean>;
  /** Clears the mark only if it still carries `token`; true when it did. */
  release(roomId: string, userId: string, token: string): Promise<boolean>;
}

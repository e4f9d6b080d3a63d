/**
 * Who has at least one open WebSocket on any instance (presence.memory.ts
 * for one process, presence.redis.ts across many). It follows the
 * `connected` / `disconnected` hooks (a user's first and last socket on this
 * instance) and emits `presenceChanged` once per transition, however many
 * sockets or instances a user has.
 */
export interface Presence {
  /** The user's first socket on this instance opened. */
  arrived(userId: string): void;
  /** The user's last socket on this instance closed. */
  departed(userId: string): void;
  isOnline(userIds: readonly string[]): Promise<boolean[]>;
  start(): void;
  /** Clean shutdown: this instance's claims are withdrawn (its users go offline unless connected elsewhere). */
  stop(): Promise<void>;
  /** Like a crash: heartbeats stop, nothing is withdrawn; the claims lapse by themselves. */
  abandon(): void;
}

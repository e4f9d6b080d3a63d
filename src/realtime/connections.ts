import type { Hooks } from './hooks.js';

/**
 * The authenticated sockets of this instance, counted per user. Transports
 * report each socket once when it opens and once when it closes; this turns
 * that into the `connected` / `disconnected` hooks, with whether it was the
 * user's first or last socket here.
 */
export class Connections {
  private readonly counts = new Map<string, number>();

  constructor(private readonly hooks: Hooks) {}

  opened(userId: string): void {
    const count = (this.counts.get(userId) ?? 0) + 1;
    this.counts.set(userId, count);
    this.hooks.emit('connected', { userId, first: count === 1 });
  }

  closed(userId: string): void {
    const count = this.counts.get(userId);
    if (count === undefined) return;
    if (count > 1) this.counts.set(userId, count - 1);
    else this.counts.delete(userId);
    this.hooks.emit('disconnected', { userId, last: count === 1 });
  }
}

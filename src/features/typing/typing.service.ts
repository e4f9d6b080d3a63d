import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Viewer } from '../../auth/viewer.js';
import type { Logger } from '../../logger.js';
import type { EventsPublisher } from '../events/events.publisher.js';
import type { RoomsService } from '../rooms/rooms.service.js';

export interface TypingServiceDeps {
  rooms: RoomsService;
  publish: EventsPublisher;
  logger: Logger;
  /** Shared state across instances; null: this process only. */
  redis: Redis | null;
  prefix: string;
  lapseMs: number;
}

// KEYS: the typing key. ARGV: the value this instance wrote. Deletes it only if nobody refreshed it since.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface Held {
  roomId: string;
  userId: string;
  token: string;
  timer: NodeJS.Timeout;
}

/**
 * Typing indicators: ephemeral, never in Postgres. A user is typing in a room
 * while a key with a short expiry exists (Redis, or this process without it).
 * The instance that received the latest setTyping(true) owns the lapse timer:
 * when it fires and its own write is still the latest, it deletes the key and
 * announces typing false. A repeat anywhere overwrites the key, so stale timers
 * elsewhere find another value and stay quiet. Transitions only: a repeat while
 * typing announces nothing.
 */
export class TypingService {
  private readonly held = new Map<string, Held>();
  private readonly local = new Set<string>();

  constructor(private readonly deps: TypingServiceDeps) {}

  async set(viewer: Viewer, roomId: string, typing: boolean): Promise<boolean> {
    const { room } = await this.deps.rooms.requireMembership(viewer, roomId);
    if (typing) await this.start(room.id, viewer.userId);
    else await this.stop(room.id, viewer.userId);
    return true;
  }

  /** The user's last socket on this instance closed: what they were typing here ends now. */
  async userDisconnected(userId: string): Promise<void> {
    const mine = [...this.held.values()].filter((h) => h.userId === userId);
    await Promise.allSettled(mine.map((h) => this.stop(h.roomId, h.userId)));
  }

  /** Shutdown: timers are dropped; keys lapse by themselves in Redis. */
  close(): void {
    for (const held of this.held.values()) clearTimeout(held.timer);
    this.held.clear();
  }

  private key(roomId: string, userId: string) {
    return `${this.deps.prefix}typing:${roomId}:${userId}`;
  }

  private async start(roomId: string, userId: string): Promise<void> {
    const key = this.key(roomId, userId);
    const token = randomUUID();
    const { redis, lapseMs } = this.deps;
    let wasTyping: boolean;
    if (redis) {
      // The key outlives the owner's lapse timer, which deletes it and announces
      // the end; the expiry only cleans up after an owner that died.
      wasTyping = (await redis.set(key, token, 'PX', lapseMs * 2 + 1000, 'GET')) !== null;
    } else {
      wasTyping = this.local.has(key);
      this.local.add(key);
    }
    const previous = this.held.get(key);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(() => void this.lapse(key, token), lapseMs);
    timer.unref();
    this.held.set(key, { roomId, userId, token, timer });
    if (!wasTyping) this.deps.publish.room(roomId, { type: 'typing', userId, typing: true });
  }

  private async stop(roomId: string, userId: string): Promise<void> {
    const key = this.key(roomId, userId);
    const held = this.held.get(key);
    if (held) clearTimeout(held.timer);
    this.held.delete(key);
    const { redis } = this.deps;
    const wasTyping = redis ? (await redis.del(key)) > 0 : this.local.delete(key);
    if (wasTyping) this.deps.publish.room(roomId, { type: 'typing', userId, typing: false });
  }

  private async lapse(key: string, token: string): Promise<void> {
    const held = this.held.get(key);
    if (!held || held.token !== token) return;
    this.held.delete(key);
    try {
      const { redis } = this.deps;
      const released = redis ? ((await redis.eval(RELEASE, 1, key, token)) as number) > 0 : this.local.delete(key);
      if (released) this.deps.publish.room(held.roomId, { type: 'typing', userId: held.userId, typing: false });
    } catch (error) {
      this.deps.logger.warn('typing lapse failed', { error: error as Error });
    }
  }
}

import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';

/**
 * Who has at least one open WebSocket on any instance. Each instance counts
 * its own sockets; with Redis, each online user has a sorted set of instance
 * ids scored by when that instance's claim expires, refreshed by a heartbeat,
 * so the users of an instance that dies go offline when its claims lapse.
 */
export interface Presence {
  connected(userId: string): void;
  disconnected(userId: string): void;
  isOnline(userIds: readonly string[]): Promise<boolean[]>;
  start(): void;
  stop(): Promise<void>;
}

class LocalSockets {
  private readonly counts = new Map<string, number>();
  /** True when this is the user's first socket here. */
  add(userId: string): boolean {
    const n = (this.counts.get(userId) ?? 0) + 1;
    this.counts.set(userId, n);
    return n === 1;
  }
  /** True when that was the user's last socket here. */
  remove(userId: string): boolean {
    const n = (this.counts.get(userId) ?? 0) - 1;
    if (n > 0) this.counts.set(userId, n);
    else this.counts.delete(userId);
    return n <= 0;
  }
  has(userId: string) {
    return this.counts.has(userId);
  }
  users() {
    return [...this.counts.keys()];
  }
}

export function createMemoryPresence(): Presence {
  const sockets = new LocalSockets();
  return {
    connected: (userId) => void sockets.add(userId),
    disconnected: (userId) => void sockets.remove(userId),
    isOnline: async (userIds) => userIds.map((id) => sockets.has(id)),
    start: () => {},
    stop: async () => {},
  };
}

export interface RedisPresenceOptions {
  redis: Redis;
  prefix: string;
  instanceId: string;
  logger: Logger;
  /** A claim lasts this long without a heartbeat. */
  ttlMs?: number;
  heartbeatMs?: number;
}

export function createRedisPresence({ redis, prefix, instanceId, logger, ttlMs = 30_000, heartbeatMs = 10_000 }: RedisPresenceOptions): Presence {
  const sockets = new LocalSockets();
  const key = (userId: string) => `${prefix}presence:${userId}`;
  let timer: NodeJS.Timeout | null = null;
  const claim = (userIds: string[]) => {
    if (userIds.length === 0) return Promise.resolve();
    const expires = Date.now() + ttlMs;
    const pipeline = redis.pipeline();
    for (const userId of userIds) {
      pipeline.zadd(key(userId), expires, instanceId);
      pipeline.pexpire(key(userId), ttlMs);
    }
    return pipeline.exec().then(
      () => undefined,
      (error: Error) => logger.warn('presence heartbeat failed', { error }),
    );
  };
  return {
    connected(userId) {
      if (sockets.add(userId)) void claim([userId]);
    },
    disconnected(userId) {
      if (sockets.remove(userId)) redis.zrem(key(userId), instanceId).catch(() => {});
    },
    async isOnline(userIds) {
      const local = userIds.map((id) => sockets.has(id));
      const unknown = userIds.filter((_, i) => !local[i]);
      if (unknown.length === 0) return local;
      try {
        const pipeline = redis.pipeline();
        const now = Date.now();
        for (const userId of unknown) pipeline.zcount(key(userId), `(${now}`, '+inf');
        const results = (await pipeline.exec()) ?? [];
        const remote = new Map(unknown.map((id, i) => [id, Number(results[i]?.[1] ?? 0) > 0]));
        return userIds.map((id, i) => local[i]! || remote.get(id) === true);
      } catch (error) {
        logger.warn('presence lookup failed; answering from this instance only', { error: error as Error });
        return local;
      }
    },
    start() {
      timer = setInterval(() => void claim(sockets.users()), heartbeatMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      const users = sockets.users();
      if (users.length === 0) return;
      const pipeline = redis.pipeline();
      for (const userId of users) pipeline.zrem(key(userId), instanceId);
      await pipeline.exec().catch(() => {});
    },
  };
}

import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';

/** A user came online (first socket anywhere) or went offline (last socket anywhere closed, or lapsed). */
export type PresenceListener = (userId: string, online: boolean) => void;

/**
 * Who has at least one open WebSocket on any instance. Each instance counts
 * its own sockets. With Redis, each online user has a sorted set of instance
 * ids scored by when that instance's claim expires, refreshed by a heartbeat;
 * an index of users by their latest expiry lets any instance sweep the users
 * of an instance that died. Transitions are decided inside Lua scripts, so
 * exactly one instance announces each one, however many sockets or instances.
 */
export interface Presence {
  connected(userId: string): void;
  /** True when that was the user's last socket on this instance. */
  disconnected(userId: string): boolean;
  isOnline(userIds: readonly string[]): Promise<boolean[]>;
  onChange(listener: PresenceListener): void;
  start(): void;
  /** Clean shutdown: this instance's claims are withdrawn (its users go offline unless connected elsewhere). */
  stop(): Promise<void>;
  /** Like a crash: heartbeats stop, nothing is withdrawn; the claims lapse by themselves. */
  abandon(): void;
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
    const n = this.counts.get(userId);
    if (n === undefined) return false; // already forgotten (after stop)
    if (n > 1) this.counts.set(userId, n - 1);
    else this.counts.delete(userId);
    return n === 1;
  }
  has(userId: string) {
    return this.counts.has(userId);
  }
  users() {
    return [...this.counts.keys()];
  }
  clear() {
    this.counts.clear();
  }
}

class Listeners {
  private readonly list: PresenceListener[] = [];
  add(listener: PresenceListener) {
    this.list.push(listener);
  }
  emit(userId: string, online: boolean) {
    for (const listener of this.list) listener(userId, online);
  }
}

export function createMemoryPresence(): Presence {
  const sockets = new LocalSockets();
  const listeners = new Listeners();
  return {
    connected: (userId) => {
      if (sockets.add(userId)) listeners.emit(userId, true);
    },
    disconnected: (userId) => {
      const last = sockets.remove(userId);
      if (last) listeners.emit(userId, false);
      return last;
    },
    isOnline: async (userIds) => userIds.map((id) => sockets.has(id)),
    onChange: (listener) => listeners.add(listener),
    start: () => {},
    stop: async () => {
      for (const userId of sockets.users()) listeners.emit(userId, false);
      sockets.clear();
    },
    abandon: () => sockets.clear(),
  };
}

export interface RedisPresenceOptions {
  redis: Redis;
  prefix: string;
  instanceId: string;
  logger: Logger;
  /** A claim lasts this long without a heartbeat. */
  ttlMs: number;
  heartbeatMs: number;
}

// KEYS: user key, index. ARGV: now, expires, instance, userId, ttl. Returns live claims before this one.
const CLAIM = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[4])
return before`;

// KEYS: user key, index. ARGV: now, instance, userId. Returns live claims left.
const WITHDRAW = `
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
end
return left`;

// KEYS: index. ARGV: now, user key prefix. Returns the users whose every claim lapsed (removed here, once).
const SWEEP = `
local gone = {}
local users = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 500)
for _, user in ipairs(users) do
  local key = ARGV[2] .. user
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #top == 0 then
    redis.call('ZREM', KEYS[1], user)
    table.insert(gone, user)
  else
    redis.call('ZADD', KEYS[1], top[2], user)
  end
end
return gone`;

export function createRedisPresence({ redis, prefix, instanceId, logger, ttlMs, heartbeatMs }: RedisPresenceOptions): Presence {
  const sockets = new LocalSockets();
  const listeners = new Listeners();
  const userPrefix = `${prefix}presence:`;
  const index = `${prefix}presence-index`;
  let timer: NodeJS.Timeout | null = null;
  const warn = (what: string) => (error: Error) => logger.warn(what, { error });

  const claim = async (userId: string) => {
    const now = Date.now();
    const before = (await redis.eval(CLAIM, 2, userPrefix + userId, index, now, now + ttlMs, instanceId, userId, ttlMs)) as number;
    if (before === 0) listeners.emit(userId, true);
  };
  const withdraw = async (userId: string) => {
    const left = (await redis.eval(WITHDRAW, 2, userPrefix + userId, index, Date.now(), instanceId, userId)) as number;
    if (left === 0) listeners.emit(userId, false);
  };
  const heartbeat = async () => {
    const expires = Date.now() + ttlMs;
    const pipeline = redis.pipeline();
    for (const userId of sockets.users()) {
      pipeline.zadd(userPrefix + userId, expires, instanceId);
      pipeline.pexpire(userPrefix + userId, ttlMs);
      pipeline.zadd(index, 'GT', expires, userId);
    }
    await pipeline.exec();
    const gone = (await redis.eval(SWEEP, 1, index, Date.now(), userPrefix)) as string[];
    for (const userId of gone) listeners.emit(userId, false);
  };

  return {
    connected(userId) {
      if (sockets.add(userId)) claim(userId).catch(warn('presence claim failed'));
    },
    disconnected(userId) {
      const last = sockets.remove(userId);
      if (last) withdraw(userId).catch(warn('presence withdrawal failed'));
      return last;
    },
    async isOnline(userIds) {
      const local = userIds.map((id) => sockets.has(id));
      const unknown = userIds.filter((_, i) => !local[i]);
      if (unknown.length === 0) return local;
      try {
        const pipeline = redis.pipeline();
        const now = Date.now();
        for (const userId of unknown) pipeline.zcount(userPrefix + userId, `(${now}`, '+inf');
        const results = (await pipeline.exec()) ?? [];
        const remote = new Map(unknown.map((id, i) => [id, Number(results[i]?.[1] ?? 0) > 0]));
        return userIds.map((id, i) => local[i]! || remote.get(id) === true);
      } catch (error) {
        logger.warn('presence lookup failed; answering from this instance only', { error: error as Error });
        return local;
      }
    },
    onChange: (listener) => listeners.add(listener),
    start() {
      timer = setInterval(() => void heartbeat().catch(warn('presence heartbeat failed')), heartbeatMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      const users = sockets.users();
      sockets.clear();
      await Promise.allSettled(users.map(withdraw));
    },
    abandon() {
      if (timer) clearInterval(timer);
      timer = null;
      sockets.clear();
    },
  };
}

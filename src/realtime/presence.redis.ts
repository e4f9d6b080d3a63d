import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Hooks } from './hooks.js';
import type { Presence } from './presence.js';

export interface RedisPresenceOptions {
  redis: Redis;
  prefix: string;
  instanceId: string;
  hooks: Hooks;
  logger: Logger;
  /** A claim lasts this long without a heartbeat (ms). */
  ttlMs: number;
  /** How often this instance renews its claims and sweeps lapsed ones (ms); shorter than ttlMs. */
  heartbeatMs: number;
}

/**
 * Each instance claims its own users. Each online user has a sorted set of
 * instance ids scored by when that instance's claim expires, refreshed by a
 * heartbeat; an index of users by their latest expiry lets any instance sweep
 * the users of an instance that died. Transitions are decided inside Lua
 * scripts, so exactly one instance announces each one.
 */
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

// KEYS: index. ARGV: expires, instance, ttl, user key prefix, then the users. Renews this instance's claims.
const RENEW = `
for i = 5, #ARGV do
  local key = ARGV[4] .. ARGV[i]
  redis.call('ZADD', key, ARGV[1], ARGV[2])
  redis.call('PEXPIRE', key, ARGV[3])
  redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[i])
end
return #ARGV - 4`;

/** Users per renewal script: big enough to be few calls, small enough not to hold Redis up. */
const RENEW_CHUNK = 1000;

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

export function createRedisPresence({
  redis,
  prefix,
  instanceId,
  hooks,
  logger,
  ttlMs,
  heartbeatMs,
}: RedisPresenceOptions): Presence {
  /** The users with a socket on this instance: the ones it claims. */
  const local = new Set<string>();
  const changed = (userId: string, online: boolean) => hooks.emit('presenceChanged', { userId, online });
  const userPrefix = `${prefix}presence:`;
  const index = `${prefix}presence-index`;
  let timer: NodeJS.Timeout | null = null;
  const warn = (what: string) => (error: Error) => logger.warn(what, { error });
  /** Claims and withdrawals under way: a clean stop waits for them, so their transitions are announced. */
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  const claim = async (userId: string) => {
    const now = Date.now();
    const before = (await redis.eval(
      CLAIM,
      2,
      userPrefix + userId,
      index,
      now,
      now + ttlMs,
      instanceId,
      userId,
      ttlMs,
    )) as number;
    if (before === 0) changed(userId, true);
  };
  const withdraw = async (userId: string) => {
    const left = (await redis.eval(WITHDRAW, 2, userPrefix + userId, index, Date.now(), instanceId, userId)) as number;
    if (left === 0) changed(userId, false);
  };
  const heartbeat = async () => {
    const expires = Date.now() + ttlMs;
    const users = [...local];
    for (let i = 0; i < users.length; i += RENEW_CHUNK) {
      await redis.eval(RENEW, 1, index, expires, instanceId, ttlMs, userPrefix, ...users.slice(i, i + RENEW_CHUNK));
    }
    const gone = (await redis.eval(SWEEP, 1, index, Date.now(), userPrefix)) as string[];
    for (const userId of gone) changed(userId, false);
  };

  return {
    arrived(userId) {
      if (local.has(userId)) return;
      local.add(userId);
      track(claim(userId).catch(warn('presence claim failed')));
    },
    departed(userId) {
      if (local.delete(userId)) track(withdraw(userId).catch(warn('presence withdrawal failed')));
    },
    async isOnline(userIds) {
      const here = userIds.map((id) => local.has(id));
      const unknown = userIds.filter((_, i) => !here[i]);
      if (unknown.length === 0) return here;
      try {
        const now = Date.now();
        // Plain commands, not an explicit pipeline: the connection auto-pipelines
        // them into one write all the same, and keeps them behind this instance's
        // claims and withdrawals still queued (an explicit pipeline overtakes
        // those, and read a user who had just gone offline as online).
        const counts = await Promise.all(unknown.map((userId) => redis.zcount(userPrefix + userId, `(${now}`, '+inf')));
        const remote = new Map(unknown.map((id, i) => [id, counts[i]! > 0]));
        return userIds.map((id, i) => here[i]! || remote.get(id) === true);
      } catch (error) {
        logger.warn('presence lookup failed; answering from this instance only', { error: error as Error });
        return here;
      }
    },
    start() {
      timer = setInterval(() => void heartbeat().catch(warn('presence heartbeat failed')), heartbeatMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      const users = [...local];
      local.clear();
      await Promise.allSettled([...pending, ...users.map(withdraw)]);
    },
    abandon() {
      if (timer) clearInterval(timer);
      timer = null;
      local.clear();
    },
  };
}

import type { Redis } from 'ioredis';
import { withDeadline } from '../deadline.js';
import type { Logger } from '../logger.js';

/** One open socket (or stream) counted against its user's cap; released when it closes. */
export interface SocketSlot {
  release(): void;
}

/**
 * At most `max` open sockets per user: across every instance with Redis, in
 * this process otherwise. The same kind of cap counts WebSockets and HTTP
 * streams (SSE, multipart), each under its own name.
 */
export interface SocketCaps {
  readonly max: number;
  /** A slot for one more socket of the user; null when the user already has `max` open. */
  acquire(userId: string): Promise<SocketSlot | null>;
  /** Stops renewing this instance's slots in Redis (they lapse after ttlMs unless released). */
  stop(): void;
}

export interface SocketCapsOptions {
  max: number;
  /**
   * What is counted, as the Redis key says it (`<prefix><name>:<user id>`).
   * @default 'sockets'
   */
  name?: string;
  /** The app's command connection; null: counted in this process only. */
  redis: Redis | null;
  prefix: string;
  instanceId: string;
  logger: Logger;
  /** A slot in Redis lasts this long without renewal (ms): the slots of a crashed instance lapse. */
  ttlMs: number;
  /** How often this instance renews its slots (ms); shorter than ttlMs. */
  renewMs: number;
  /**
   * How long an admission may wait for Redis before this process's own count decides (ms).
   * @default 250
   */
  deadlineMs?: number;
}

// KEYS: the user's slots. ARGV: now, expires, member, max, ttl. 1: admitted (and added), 0: full.
const ADMIT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

// ARGV: expires, ttl, key prefix, then pairs of user id and member. Renews (or re-adds) each slot.
const RENEW = `
for i = 4, #ARGV, 2 do
  local key = ARGV[3] .. ARGV[i]
  redis.call('ZADD', key, ARGV[1], ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[2])
end
return 0`;

/** Slots per renewal script: few calls, none that holds Redis up for long. */
const RENEW_CHUNK = 500;

/**
 * Each user's open sockets are a sorted set in Redis of `<instance>:<n>`
 * members scored by when they lapse; each instance renews its own, so a
 * crashed instance's sockets stop counting after ttlMs. Admission is one Lua
 * script (count live members, add one if under the cap), so two instances
 * admitting at once cannot both take the last slot. When Redis fails or is
 * slow, this instance's own count decides (the cap holds per instance during
 * an outage), and the renewal puts those slots into Redis once it is back.
 */
export function createSocketCaps(options: SocketCapsOptions): SocketCaps {
  const { max, redis, prefix, instanceId, logger, ttlMs, renewMs, deadlineMs = 250, name = 'sockets' } = options;
  /** This instance's open slots: member -> user id. */
  const slots = new Map<string, string>();
  const perUser = new Map<string, number>();
  const keyOf = (userId: string) => `${prefix}${name}:${userId}`;
  let next = 0;
  let failing = false;
  const warn = (what: string) => (error: unknown) => {
    if (!failing) logger.warn(what, { cap: name, error: error as Error });
    failing = true;
  };

  const take = (userId: string, member: string): SocketSlot => {
    slots.set(member, userId);
    perUser.set(userId, (perUser.get(userId) ?? 0) + 1);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        slots.delete(member);
        const left = (perUser.get(userId) ?? 1) - 1;
        if (left > 0) perUser.set(userId, left);
        else perUser.delete(userId);
        if (redis) void redis.zrem(keyOf(userId), member).catch(warn('could not release a socket slot in Redis'));
      },
    };
  };
  const underLocalCap = (userId: string) => (perUser.get(userId) ?? 0) < max;

  const renew = () => {
    if (!redis || slots.size === 0) return;
    const expires = Date.now() + ttlMs;
    const pairs = [...slots].flatMap(([member, userId]) => [userId, member]);
    for (let i = 0; i < pairs.length; i += RENEW_CHUNK * 2) {
      const chunk = pairs.slice(i, i + RENEW_CHUNK * 2);
      redis.eval(RENEW, 0, expires, ttlMs, `${prefix}${name}:`, ...chunk).then(() => {
        failing = false;
      }, warn('could not renew socket slots in Redis'));
    }
  };
  const timer = redis ? setInterval(renew, renewMs) : null;
  timer?.unref();

  return {
    max,
    async acquire(userId) {
      const member = `${instanceId}:${++next}`;
      if (!redis) return underLocalCap(userId) ? take(userId, member) : null;
      const now = Date.now();
      try {
        const admitted = await withDeadline(
          redis.eval(ADMIT, 1, keyOf(userId), now, now + ttlMs, member, max, ttlMs),
          deadlineMs,
          'redis',
        );
        failing = false;
        return admitted === 1 ? take(userId, member) : null;
      } catch (error) {
        warn('socket cap falling back to this instance: Redis did not answer')(error);
        return underLocalCap(userId) ? take(userId, member) : null;
      }
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

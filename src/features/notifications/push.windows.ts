import type { Redis } from 'ioredis';

/** The newest message of a window: what its push shows. */
export interface WindowEntry {
  readonly seq: number;
  readonly roomName: string | null;
  readonly author: string;
  readonly body: string;
}

/** What a window gathered by its end. */
export interface Gathered {
  readonly count: number;
  readonly newest: WindowEntry;
}

/**
 * The batching state of Web Push, one window per user and room, and who
 * went offline lately. In the process without Redis; in Redis with it, so
 * that the messages of one room sent through several instances fall into
 * one window, and only the instance that opened a window pushes it.
 */
export interface PushWindows {
  /**
   * Counts a message into the user's window of the room, opening it when
   * there is none; true when this call opened it (its caller pushes at its
   * end). `ttlMs` bounds how long an unclosed window lingers (its opener died).
   */
  add(userId: string, roomId: string, entry: WindowEntry, ttlMs: number): Promise<boolean>;
  /** Ends the window: what it gathered, or null when there is none. */
  close(userId: string, roomId: string): Promise<Gathered | null>;
  /** The user went offline (no socket on any instance): for `ms` they count as just gone. */
  wentOffline(userId: string, ms: number): Promise<void>;
  wentOnline(userId: string): Promise<void>;
  /** How much longer the user counts as just gone (0: offline long enough, or never seen go). */
  offlineGrace(userId: string): Promise<number>;
}

export function createMemoryWindows(now: () => number = Date.now): PushWindows {
  const windows = new Map<string, { count: number; newest: WindowEntry; expires: number }>();
  const graceUntil = new Map<string, number>();
  const key = (userId: string, roomId: string) => `${userId}:${roomId}`;
  return {
    add(userId, roomId, entry, ttlMs) {
      const k = key(userId, roomId);
      const open = windows.get(k);
      if (open && open.expires > now()) {
        open.count += 1;
        if (entry.seq > open.newest.seq) open.newest = entry;
        return Promise.resolve(false);
      }
      windows.set(k, { count: 1, newest: entry, expires: now() + ttlMs });
      return Promise.resolve(true);
    },
    close(userId, roomId) {
      const k = key(userId, roomId);
      const open = windows.get(k);
      windows.delete(k);
      return Promise.resolve(open ? { count: open.count, newest: open.newest } : null);
    },
    wentOffline(userId, ms) {
      graceUntil.set(userId, now() + ms);
      return Promise.resolve();
    },
    wentOnline(userId) {
      graceUntil.delete(userId);
      return Promise.resolve();
    },
    offlineGrace(userId) {
      const until = graceUntil.get(userId);
      if (until === undefined) return Promise.resolve(0);
      const left = until - now();
      if (left <= 0) graceUntil.delete(userId);
      return Promise.resolve(Math.max(0, left));
    },
  };
}

/** Counts into the window hash, opening it (with its lifetime) when it is new; 1 when this call opened it. */
const ADD = `
local opened = redis.call('HSETNX', KEYS[1], 'count', 0)
redis.call('HINCRBY', KEYS[1], 'count', 1)
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
if tonumber(ARGV[1]) > seq then redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'entry', ARGV[2]) end
if opened == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return opened`;

/** Reads the window and deletes it in one step: a message added after it goes into the next window. */
const CLOSE = `
local gathered = redis.call('HMGET', KEYS[1], 'count', 'entry')
redis.call('DEL', KEYS[1])
return gathered`;

export function createRedisWindows(redis: Redis, prefix: string): PushWindows {
  const windowKey = (userId: string, roomId: string) => `${prefix}push:window:${userId}:${roomId}`;
  const graceKey = (userId: string) => `${prefix}push:offline:${userId}`;
  return {
    async add(userId, roomId, entry, ttlMs) {
      return (await redis.eval(ADD, 1, windowKey(userId, roomId), entry.seq, JSON.stringify(entry), ttlMs)) === 1;
    },
    async close(userId, roomId) {
      const [count, entry] = (await redis.eval(CLOSE, 1, windowKey(userId, roomId))) as [string | null, string | null];
      if (count === null || entry === null) return null;
      return { count: Number(count), newest: JSON.parse(entry) as WindowEntry };
    },
    async wentOffline(userId, ms) {
      if (ms > 0) await redis.set(graceKey(userId), '1', 'PX', ms);
    },
    async wentOnline(userId) {
      await redis.del(graceKey(userId));
    },
    async offlineGrace(userId) {
      return Math.max(0, await redis.pttl(graceKey(userId)));
    },
  };
}

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

/** A window, named by its user and room. */
export interface WindowKey {
  readonly userId: string;
  readonly roomId: string;
}

/**
 * The batching state of Web Push, one window per user and room, and who
 * went offline lately. In the process without Redis; in Redis with it, so
 * that the messages of one room sent through several instances fall into
 * one window, and a window whose opener died is pushed by another.
 *
 * Each open window is due at a time (its end, or later while its member's
 * grace lasts). Whoever pushes it first takes it (`take`, or `takeDue` for
 * every window due by then): one instance, once.
 */
export interface PushWindows {
  /**
   * Counts a message into the user's window of the room, opening it, due
   * at `dueAt`, when there is none; true when this call opened it (its
   * caller may wait for its end and take it). `ttlMs` bounds how long an
   * unclosed window lingers.
   */
  add(key: WindowKey, entry: WindowEntry, ttlMs: number, dueAt: number): Promise<boolean>;
  /** The window is due again at `dueAt` (its member's grace runs till then); it can be taken again. */
  postpone(key: WindowKey, dueAt: number): Promise<void>;
  /** Takes the window to push it: false when another took it first (or it is gone). */
  take(key: WindowKey): Promise<boolean>;
  /** Takes up to `limit` windows due by `now` that nobody took (their opener died, or is late). */
  takeDue(now: number, limit: number): Promise<WindowKey[]>;
  /** Ends the window: what it gathered, or null when there is none. */
  close(key: WindowKey): Promise<Gathered | null>;
  /** The user went offline (no socket on any instance): for `ms` they count as just gone. */
  wentOffline(userId: string, ms: number): Promise<void>;
  wentOnline(userId: string): Promise<void>;
  /** How much longer the user counts as just gone (0: offline long enough, or never seen go). */
  offlineGrace(userId: string): Promise<number>;
}

export function createMemoryWindows(now: () => number = Date.now): PushWindows {
  const windows = new Map<string, { count: number; newest: WindowEntry; expires: number }>();
  /** Windows not taken, by key, with the time each is due. */
  const due = new Map<string, { key: WindowKey; at: number }>();
  const graceUntil = new Map<string, number>();
  const name = ({ userId, roomId }: WindowKey) => `${userId}:${roomId}`;
  return {
    add(key, entry, ttlMs, dueAt) {
      const k = name(key);
      const open = windows.get(k);
      if (open && open.expires > now()) {
        open.count += 1;
        if (entry.seq > open.newest.seq) open.newest = entry;
        return Promise.resolve(false);
      }
      windows.set(k, { count: 1, newest: entry, expires: now() + ttlMs });
      due.set(k, { key, at: dueAt });
      return Promise.resolve(true);
    },
    postpone(key, dueAt) {
      if (windows.has(name(key))) due.set(name(key), { key, at: dueAt });
      return Promise.resolve();
    },
    take(key) {
      return Promise.resolve(due.delete(name(key)));
    },
    takeDue(at, limit) {
      const taken: WindowKey[] = [];
      for (const [k, entry] of due) {
        if (taken.length >= limit) break;
        if (entry.at > at) continue;
        due.delete(k);
        taken.push(entry.key);
      }
      return Promise.resolve(taken);
    },
    close(key) {
      const k = name(key);
      const open = windows.get(k);
      windows.delete(k);
      due.delete(k);
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

/**
 * Counts into the window hash, opening it (with its lifetime, and due in
 * the due set) when it is new; 1 when this call opened it.
 * KEYS: window hash, due set. ARGV: seq, entry, ttl, due time, due member.
 */
const ADD = `
local opened = redis.call('HSETNX', KEYS[1], 'count', 0)
redis.call('HINCRBY', KEYS[1], 'count', 1)
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
if tonumber(ARGV[1]) > seq then redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'entry', ARGV[2]) end
if opened == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
end
return opened`;

/** Reads the window and deletes it in one step: a message added after it goes into the next window. */
const CLOSE = `
local gathered = redis.call('HMGET', KEYS[1], 'count', 'entry')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return gathered`;

/** Takes up to ARGV[2] members of the due set due by ARGV[1]: read and removed in one step. */
const TAKE_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due`;

export function createRedisWindows(redis: Redis, prefix: string): PushWindows {
  const windowKey = ({ userId, roomId }: WindowKey) => `${prefix}push:window:${userId}:${roomId}`;
  const graceKey = (userId: string) => `${prefix}push:offline:${userId}`;
  /** Every open window not taken, scored by when it is due. */
  const dueKey = `${prefix}push:due`;
  const member = ({ userId, roomId }: WindowKey) => `${userId}:${roomId}`;
  return {
    async add(key, entry, ttlMs, dueAt) {
      const opened = await redis.eval(
        ADD,
        2,
        windowKey(key),
        dueKey,
        entry.seq,
        JSON.stringify(entry),
        ttlMs,
        dueAt,
        member(key),
      );
      return opened === 1;
    },
    async postpone(key, dueAt) {
      // Only while the window exists (XX would not do: it was taken, so it is not in the set).
      if ((await redis.exists(windowKey(key))) === 1) await redis.zadd(dueKey, dueAt, member(key));
    },
    async take(key) {
      return (await redis.zrem(dueKey, member(key))) === 1;
    },
    async takeDue(now, limit) {
      const taken = (await redis.eval(TAKE_DUE, 1, dueKey, now, limit)) as string[];
      return taken.map((text) => {
        const [userId, roomId] = text.split(':') as [string, string];
        return { userId, roomId };
      });
    },
    async close(key) {
      const [count, entry] = (await redis.eval(CLOSE, 2, windowKey(key), dueKey, member(key))) as [string | null, string | null];
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

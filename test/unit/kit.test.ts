import { describe, expect, it, vi } from 'vitest';
import { messageAddedField, refreshDelay, resumable, startTokenRefresher, tokenExpiry } from '../../client/index.js';

const MESSAGE_ADDED =
  'subscription M($roomId: ID!, $from: String) { messageAdded(roomId: $roomId, after: $from) { id seq cursor } }';
const message = (seq: number) => ({ data: { messageAdded: { id: `m${seq}`, seq, cursor: `c${seq}` } } });

/** A JWT-shaped token (unsigned: the kit reads exp without verifying). */
const jwt = (payload: Record<string, unknown>) =>
  ['{"alg":"HS256"}', JSON.stringify(payload), 'sig'].map((part) => Buffer.from(part).toString('base64url')).join('.');

describe('client kit: messageAdded resume', () => {
  it('finds the variable that feeds messageAdded(after:) and the key it answers under', () => {
    expect(messageAddedField(MESSAGE_ADDED)).toEqual({ variable: 'from', key: 'messageAdded' });
    expect(messageAddedField('subscription($a: String) { m: messageAdded(roomId: "r", after: $a) { id } }')).toEqual({
      variable: 'a',
      key: 'm',
    });
    expect(messageAddedField('subscription { messageAdded(roomId: "r") { id } }')).toBeNull();
    expect(messageAddedField('subscription($r: ID!) { roomEvents(roomId: $r) { __typename } }')).toBeNull();
  });

  it('follows an aliased messageAdded field', () => {
    const stream = resumable({ query: 'subscription($a: String) { m: messageAdded(roomId: "r", after: $a) { seq cursor } }' });
    expect(stream.accept({ data: { m: { seq: 7, cursor: 'c7' } } })).toBe(true);
    expect(stream.accept({ data: { m: { seq: 7, cursor: 'c7' } } })).toBe(false);
    expect(stream.payload.variables).toEqual({ a: 'c7' });
  });

  it('moves after to the cursor of each message passed on, in its own copy of the payload', () => {
    const original = { query: MESSAGE_ADDED, variables: { roomId: 'r', from: null } };
    const stream = resumable(original);
    expect(stream.accept(message(4))).toBe(true);
    expect(stream.payload.variables).toEqual({ roomId: 'r', from: 'c4' });
    expect(stream.accept(message(5))).toBe(true);
    // What graphql-ws sends on a retry is this object serialised again: the newest cursor.
    expect(JSON.parse(JSON.stringify(stream.payload)).variables.from).toBe('c5');
    expect(original.variables.from).toBeNull(); // the caller's payload is left alone
    expect(stream.lastSeq).toBe(5);
  });

  it('drops a message at or below the newest seq passed on, without moving after', () => {
    const stream = resumable({ query: MESSAGE_ADDED, variables: { roomId: 'r' } });
    const passed = [3, 4, 4, 2, 5, 5, 6].filter((seq) => stream.accept(message(seq)));
    expect(passed).toEqual([3, 4, 5, 6]);
    expect(stream.payload.variables?.from).toBe('c6');
  });

  it('passes errors and other subscriptions through untouched', () => {
    const stream = resumable({ query: MESSAGE_ADDED, variables: { roomId: 'r' } });
    expect(stream.accept({ errors: [{ message: 'Forbidden', extensions: { code: 'FORBIDDEN' } }] })).toBe(true);
    const other = { query: 'subscription { myEvents { __typename } }' };
    const passthrough = resumable(other);
    expect(passthrough.payload).toBe(other);
    expect(passthrough.accept(message(1))).toBe(true);
    expect(passthrough.accept(message(1))).toBe(true);
  });
});

describe('client kit: tokens', () => {
  it('reads exp from a JWT without verifying it', () => {
    expect(tokenExpiry(jwt({ sub: 'u', exp: 1_900_000_000 }))).toBe(1_900_000_000_000);
    expect(tokenExpiry(jwt({ sub: 'u' }))).toBeNull();
    expect(tokenExpiry('not a token')).toBeNull();
  });

  it('refreshes leeway before exp, or at half the remaining lifetime when that is shorter', () => {
    expect(refreshDelay(200_000, 0, 60_000)).toBe(140_000);
    expect(refreshDelay(10_000, 0, 60_000)).toBe(5_000);
    expect(refreshDelay(0, 1, 60_000)).toBe(0);
  });

  it('calls refresh before exp and schedules the next refresh from the new token', async () => {
    vi.useFakeTimers({ now: 0 });
    try {
      let token = jwt({ exp: 100 }); // 100 s
      const refresh = vi.fn(async () => jwt({ exp: 200 }));
      const refresher = startTokenRefresher({ getToken: () => token, refresh, onToken: (t) => (token = t), leewayMs: 10_000 });
      await vi.advanceTimersByTimeAsync(89_999);
      expect(refresh).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(refresh).toHaveBeenCalledTimes(1);
      expect(tokenExpiry(token)).toBe(200_000);
      await vi.advanceTimersByTimeAsync(100_000); // the next one is due at 190 s
      expect(refresh).toHaveBeenCalledTimes(2);
      refresher.stop();
      await vi.advanceTimersByTimeAsync(1_000_000);
      expect(refresh).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('client kit: the end of a session', () => {
  it('stops refreshing once a refresh no longer moves exp (the session reached SESSION_MAX_AGE)', async () => {
    vi.useFakeTimers({ now: 0 });
    try {
      let token = jwt({ exp: 100 });
      // The session ends at 150 s: the server's tokens never expire later.
      const refresh = vi.fn(async () => jwt({ exp: 150 }));
      startTokenRefresher({ getToken: () => token, refresh, onToken: (t) => (token = t), leewayMs: 10_000 });
      await vi.advanceTimersByTimeAsync(150_000);
      // Once at 90 s (exp 100 -> 150), once at 140 s (150 -> 150), then no more: not a refresh per turn as exp nears.
      expect(refresh).toHaveBeenCalledTimes(2);
      expect(tokenExpiry(token)).toBe(150_000);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('client kit: browser', () => {
  it('bundles for the browser: no Node-only import in any entry point', async () => {
    const { build } = await import('esbuild');
    const entryPoints = ['client/index.ts', 'client/urql.ts', 'client/apollo.ts'];
    const result = await build({
      entryPoints,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      outdir: 'out',
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles.map((file) => file.text).join('\n')).not.toMatch(/from ["']node:/);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, type DocumentNode } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { ConnectionStateTracker } from '../../client/connection-state.js';
import * as kit from '../../client/index.js';
import {
  messageAddedField,
  refreshDelay,
  resumable,
  startTokenRefresher,
  tokenExpiry,
  type ConnectionState,
} from '../../client/index.js';
import { loadConfig } from '../../src/config.js';
import { featureListSizes } from '../../src/features/index.js';
import { CostEstimator } from '../../src/transport/cost.js';

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

describe('client kit: connection state', () => {
  /** A tracker with one operation running, its socket live, and the states it reports from here on. */
  function liveTracker() {
    const tracker = new ConnectionStateTracker();
    const seen: ConnectionState[] = [];
    tracker.operationStarted();
    tracker.connecting(false);
    tracker.connected();
    tracker.onChange((state) => seen.push(state));
    return { tracker, seen };
  }

  it('reports one lost socket once, with the close code and the error’s message, however many operations retry', () => {
    const { tracker, seen } = liveTracker();
    tracker.operationStarted();
    tracker.error({ message: 'connect ECONNREFUSED 127.0.0.1:4000' });
    tracker.closed({ code: 1006, reason: '' });
    tracker.retrying(); // graphql-ws asks once per operation
    tracker.retrying();
    expect(seen).toEqual([
      { status: 'reconnecting', reason: { code: 1006, message: 'connect ECONNREFUSED 127.0.0.1:4000' }, attempt: 1 },
    ]);
    tracker.connecting(true);
    tracker.closed({ code: 1001, reason: 'Going away' });
    tracker.retrying();
    expect(seen.at(-1)).toEqual({ status: 'reconnecting', reason: { code: 1001, message: 'Going away' }, attempt: 2 });
    tracker.connecting(true);
    tracker.connected();
    expect(seen.at(-1)).toEqual({ status: 'live' });
  });

  it('takes a 1000 close from the server while operations run as a reconnect (graphql-ws retries it without asking)', () => {
    vi.useFakeTimers();
    try {
      const { tracker, seen } = liveTracker();
      tracker.closed({ code: 1000, reason: 'Normal Closure' });
      expect(seen).toEqual([]); // graphql-ws has not decided yet
      vi.runAllTimers();
      expect(seen).toEqual([{ status: 'reconnecting', reason: { code: 1000, message: 'Normal Closure' }, attempt: 1 }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is idle when the last operation ends, also while retrying (graphql-ws drops the retry without an event)', () => {
    const { tracker, seen } = liveTracker();
    tracker.closed({ code: 1006, reason: '' });
    tracker.retrying();
    tracker.operationEnded();
    expect(seen.map((state) => state.status)).toEqual(['reconnecting', 'idle']);

    const other = liveTracker();
    other.tracker.operationEnded();
    other.tracker.closed({ code: 1000, reason: 'Normal Closure' }); // the lazy close after the last operation
    expect(other.seen).toEqual([{ status: 'idle' }]);
  });

  it('is closed with the reason when graphql-ws gives up, and closed with none once disposed, after which nothing changes it', () => {
    const { tracker, seen } = liveTracker();
    const stop = tracker.onChange(() => {});
    stop();
    tracker.closed({ code: 4400, reason: 'Bad request' });
    tracker.gaveUp({ code: 4400, reason: 'Bad request' });
    expect(seen).toEqual([{ status: 'closed', reason: { code: 4400, message: 'Bad request' } }]);
    tracker.dispose();
    tracker.connecting(false);
    tracker.connected();
    expect(seen.at(-1)).toEqual({ status: 'closed', reason: null });
    expect(tracker.state).toEqual({ status: 'closed', reason: null });
  });
});

describe('client kit: its documents and the cost limit', () => {
  it('keeps every document under the default MAX_QUERY_COST at the largest page the API gives', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'chat-kit-cost-'));
    try {
      const { config } = loadConfig({}, cwd);
      const schema = buildSchema(readFileSync(fileURLToPath(new URL('../../schema.graphql', import.meta.url)), 'utf8'));
      const estimator = new CostEstimator(config.assumedListSize, featureListSizes);
      // first/last past every maximum: the estimate counts each list at the most it returns. The threads
      // feature declares no size for Query.threadMessages, so the estimate takes its `last` as given: the
      // largest page it is "paged as messages()" with, 200.
      const largest = (name: string) =>
        name === 'ThreadMessagesDocument' ? { last: 200 } : { first: 1_000_000, last: 1_000_000 };
      const documents = Object.entries(kit).filter(([name]) => name.endsWith('Document'));
      expect(documents.length).toBeGreaterThan(50);
      const over = documents.flatMap(([name, document]) =>
        estimator
          .costs(schema, document as DocumentNode, { variables: largest(name) })
          .filter((cost) => cost > config.requestLimits.cost)
          .map((cost) => `${name}: ${Math.round(cost)}`),
      );
      expect(over).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { codes, eventually, Subscription, trackedClients, type GqlResult } from '../support/client.js';
import { moved, scrape } from '../support/metrics.js';
import { messageProbe } from '../support/probes.js';
import type { TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const MESSAGE_ADDED = 'subscription($r: ID!) { messageAdded(roomId: $r) { id seq body } }';
const MY_EVENTS = 'subscription { myEvents { __typename } }';
const SSE = 'text/event-stream';
/** What Apollo Client's HttpLink sends for a subscription. */
const MULTIPART = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0, application/json';
const ALLOWED = 'https://chat.example';
const OTHER = 'https://evil.example';

interface StreamRequest {
  token?: string;
  /** null: no Accept header at all. */
  accept: string | null;
  origin?: string;
  query?: string;
  variables?: Record<string, unknown>;
  method?: 'GET' | 'POST';
}

/** The HTTP streams a test opened, aborted after it. */
const opened: AbortController[] = [];
afterEach(() => {
  for (const abort of opened.splice(0)) abort.abort();
});

/** A subscription over HTTP with these headers; the response as it starts (its body still open when it streams). */
async function request(app: App, init: StreamRequest) {
  const { query = MY_EVENTS, variables, method = 'POST' } = init;
  const headers: Record<string, string> = {};
  if (init.accept !== null) headers.accept = init.accept;
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.origin) headers.origin = init.origin;
  const abort = new AbortController();
  opened.push(abort);
  const params = new URLSearchParams({ query, ...(variables ? { variables: JSON.stringify(variables) } : {}) });
  const response =
    method === 'GET'
      ? await fetch(`${app.url}/graphql?${params}`, { headers, signal: abort.signal })
      : await fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
          signal: abort.signal,
        });
  return { response, type: response.headers.get('content-type') ?? '', close: () => abort.abort() };
}

/** The SSE and multipart samples of chat_subscriptions_active. */
const streamGauges = (samples: Map<string, number>) =>
  Object.fromEntries(
    [...samples].filter(([key]) => key.startsWith('chat_subscriptions_active') && !key.includes('transport="ws"')),
  );
const openStreams = async (app: App) => Object.values(streamGauges(await scrape(app))).reduce((a, b) => a + b, 0);

/** The errors a refused stream carried: its SSE `next` event, or its one multipart payload part. */
async function streamedErrors(response: Response): Promise<GqlResult['errors']> {
  const text = await response.text();
  const json = /^data: (\{.*\})$/m.exec(text)?.[1] ?? /\r\n\r\n(\{"payload".*\})\r\n--graphql/.exec(text)?.[1];
  if (!json) throw new Error(`no result in the stream: ${text}`);
  const result = JSON.parse(json) as GqlResult & { payload?: GqlResult };
  return (result.payload ?? result).errors;
}

/** Runs `task` for 0..count-1, `width` at a time. */
async function inParallel(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

forEachBackend('Subscriptions over HTTP', (s) => {
  const tracked = trackedClients();

  describe('Accept (finding 2)', () => {
    it("a subscription asked for with an Accept that cannot be streamed is refused before its resolver runs: 1,000 such requests leave chat_subscriptions_active and the room's feeds as they were", async () => {
      const app = await s.backend.startApp();
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      // One live subscriber of the room: afterwards, each message must reach it and nothing else.
      const probe = new Subscription(tracked(app, bob.token), MESSAGE_ADDED, { r: room.id }, messageProbe(app, alice, room));
      await probe.live();
      const before = await scrape(app);

      const unstreamable = [
        'application/json',
        'application/graphql-response+json',
        'multipart/mixed',
        'application/graphql-response+json, application/json',
        'text/html',
        'text/event-stream;charset=iso-8859-1',
      ];
      const refusals = new Map<string, number>();
      await inParallel(1000, 20, async (i) => {
        const accept = unstreamable[i % unstreamable.length]!;
        const asked = i % 2 === 0 ? { query: MY_EVENTS } : { query: MESSAGE_ADDED, variables: { r: room.id } };
        const { response, type } = await request(app, { token: alice.token, accept, ...asked });
        expect(response.status).toBe(406);
        expect(type).toMatch(/^application\/json/);
        const body = (await response.json()) as GqlResult;
        expect(codes(body)).toEqual(['BAD_USER_INPUT']);
        expect(body.errors![0]!.message).toContain('Accept: text/event-stream');
        expect(body.errors![0]!.message).toContain('multipart/mixed;subscriptionSpec=1.0');
        refusals.set(accept, (refusals.get(accept) ?? 0) + 1);
      });
      expect([...refusals.values()].reduce((a, b) => a + b)).toBe(1000);

      const after = await scrape(app);
      expect(streamGauges(after)).toEqual(streamGauges(before));
      expect(moved(before, after, 'chat_subscriptions_active{field="messageAdded",transport="ws"}')).toBe(0);
      // No source is left in the room's feed: a message and a later mark reach the probe, and only the probe.
      const framesBefore = probe.received.length;
      const sent = await s.seed.send(alice, room, 'after the refusals');
      await probe.until(() => probe.values.some((v) => v.messageAdded.id === sent.id), 10_000, 'the message');
      await probe.flush();
      const delivered = await scrape(app);
      expect(moved(after, delivered, 'chat_deliveries_total')).toBe(probe.received.length - framesBefore);
    });

    it('every Accept that yoga streamed a subscription for still streams: none, */*, text/*, any case of text/event-stream, SSE listed after JSON, Apollo multipart', async () => {
      const alice = await s.seed.user('alice');
      const before = await openStreams(s.a);
      const streamed: Array<[string | null, RegExp]> = [
        [null, /^text\/event-stream/],
        ['*/*', /^text\/event-stream/],
        ['text/*', /^text\/event-stream/],
        ['TEXT/EVENT-STREAM', /^text\/event-stream/],
        ['Text/Event-Stream; charset=UTF-8', /^text\/event-stream/],
        ['application/json, text/event-stream', /^text\/event-stream/],
        [MULTIPART, /^multipart\/mixed/],
        ['MULTIPART/MIXED;subscriptionSpec="1.0"', /^multipart\/mixed/],
      ];
      const streams = [];
      for (const [accept, type] of streamed) {
        const stream = await request(s.a, { token: alice.token, accept });
        expect({ accept, status: stream.response.status, type: stream.type }).toEqual({
          accept,
          status: 200,
          type: expect.stringMatching(type),
        });
        streams.push(stream);
      }
      // GET too: what a browser's EventSource sends.
      const get = await request(s.a, { token: alice.token, accept: SSE, method: 'GET' });
      expect(get.type).toMatch(/^text\/event-stream/);
      streams.push(get);
      expect(await openStreams(s.a)).toBe(before + streams.length);
      for (const stream of streams) stream.close();
      await eventually(async () => (await openStreams(s.a)) === before, 'the closed streams to end');
    });

    it('a stream whose client goes before its response is written is ended all the same', async () => {
      const alice = await s.seed.user('alice');
      const before = await openStreams(s.a);
      const body = JSON.stringify({ query: MY_EVENTS });
      for (const accept of [SSE, MULTIPART]) {
        for (let i = 0; i < 100; i++) {
          const socket = connect(s.a.port, '127.0.0.1');
          await new Promise((resolve) => socket.once('connect', resolve));
          socket.write(
            `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: ${accept}\r\nContent-Type: application/json\r\n` +
              `Authorization: Bearer ${alice.token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          );
          // Gone at once, or a moment later: while the request is parsed, or while its resolver runs.
          if (i % 2 === 1) await new Promise((resolve) => setImmediate(resolve));
          socket.destroy();
        }
      }
      await eventually(async () => (await openStreams(s.a)) === before, 'the abandoned streams to end');
      // And they freed their places under the per-user cap: the user can open a full set again.
      const streams = [];
      for (let i = 0; i < s.backend.config.maxStreamsPerUser; i++) {
        streams.push(await request(s.a, { token: alice.token, accept: SSE }));
        expect(streams.at(-1)!.response.status).toBe(200);
      }
      expect(await openStreams(s.a)).toBe(before + streams.length);
    });
  });

  describe('streams per user (finding 8)', () => {
    it('one SSE or multipart stream more than the cap per user is refused, and a closed one frees its place', async () => {
      const app = await s.backend.startApp({ maxStreamsPerUser: 3 });
      const alice = await s.seed.user('alice');
      const bob = await s.seed.user('bob');
      const before = await openStreams(app);
      const streams = [
        await request(app, { token: alice.token, accept: SSE }),
        await request(app, { token: alice.token, accept: MULTIPART }),
        await request(app, { token: alice.token, accept: SSE, method: 'GET' }),
      ];
      for (const stream of streams) expect(stream.response.status).toBe(200);
      expect(await openStreams(app)).toBe(before + 3);

      // One more, either way: its one result is RATE_LIMITED with a retryAfter, and nothing subscribed.
      for (const accept of [SSE, MULTIPART]) {
        const refused = await request(app, { token: alice.token, accept });
        const errors = await streamedErrors(refused.response);
        expect(errors!.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
        expect(errors![0]!.extensions!.retryAfter).toBeGreaterThanOrEqual(1);
      }
      expect(await openStreams(app)).toBe(before + 3);
      const limited = await scrape(app);
      expect(limited.get('chat_rate_limited_total{limit="streams-per-user"}')).toBe(2);
      // Another user's streams are their own.
      expect((await request(app, { token: bob.token, accept: SSE })).response.status).toBe(200);

      // A closed stream frees its place once the server has seen it close.
      streams[1]!.close();
      await eventually(async () => (await openStreams(app)) === before + 3, 'the closed stream to end');
      const again = await request(app, { token: alice.token, accept: MULTIPART });
      expect(again.response.status).toBe(200);
      expect(again.type).toMatch(/^multipart\/mixed/);
      expect(await openStreams(app)).toBe(before + 4);
      const full = await request(app, { token: alice.token, accept: SSE });
      expect((await streamedErrors(full.response))!.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    });

    if (s.name === 'services') {
      it('counts a user’s streams across instances on one Redis', async () => {
        const prefix = `${s.backend.config.redisPrefix}streams-${Date.now().toString(36)}:`;
        const [a, b] = await Promise.all([
          s.backend.startApp({ maxStreamsPerUser: 2, redisPrefix: prefix }),
          s.backend.startApp({ maxStreamsPerUser: 2, redisPrefix: prefix }),
        ]);
        const alice: TestUser = await s.seed.user('alice');
        expect((await request(a, { token: alice.token, accept: SSE })).response.status).toBe(200);
        expect((await request(b, { token: alice.token, accept: MULTIPART })).response.status).toBe(200);
        for (const on of [a, b]) {
          const refused = await request(on, { token: alice.token, accept: SSE });
          expect((await streamedErrors(refused.response))!.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
        }
      });
    }
  });

  describe('origins of streams (finding 8)', () => {
    it("the Origin check applies to every streaming response whatever the Accept's case", async () => {
      const app = await s.backend.startApp({ corsOrigins: [ALLOWED] });
      const alice = await s.seed.user('alice');
      const before = await openStreams(app);
      for (const accept of [SSE, 'TEXT/EVENT-STREAM', 'Text/Event-Stream', null, '*/*', 'text/*', MULTIPART]) {
        for (const method of ['GET', 'POST'] as const) {
          const { response } = await request(app, { token: alice.token, accept, origin: OTHER, method });
          expect({ accept, method, status: response.status }).toEqual({ accept, method, status: 403 });
          expect(codes((await response.json()) as GqlResult)).toEqual(['FORBIDDEN']);
        }
      }
      // What is refused never subscribed.
      expect(await openStreams(app)).toBe(before);
      // A query answered as an event stream is a streaming response too.
      const query = await request(app, { accept: 'TEXT/EVENT-STREAM', origin: OTHER, query: '{ __typename }' });
      expect(query.response.status).toBe(403);
      // The allowed origin, and a client that sends no Origin, still stream.
      for (const origin of [ALLOWED, undefined]) {
        const allowed = await request(app, { token: alice.token, accept: 'TEXT/EVENT-STREAM', origin });
        expect(allowed.response.status).toBe(200);
        expect(allowed.type).toMatch(/^text\/event-stream/);
      }
      expect(await openStreams(app)).toBe(before + 2);
    });
  });
});

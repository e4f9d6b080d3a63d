import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { codes, gql, Subscription, trackedClients, wsUrl } from '../support/client.js';
import { moved, scrape, value } from '../support/metrics.js';
import { messageProbe } from '../support/probes.js';
import { forEachBackend } from '../support/suite.js';

const MESSAGE_ADDED = 'subscription($r: ID!) { messageAdded(roomId: $r) { id seq body } }';
const WS_SUBS = 'chat_subscriptions_active{field="messageAdded",transport="ws"}';
const SSE_SUBS = 'chat_subscriptions_active{field="messageAdded",transport="sse"}';

forEachBackend('Metrics', (s) => {
  const client = trackedClients();

  it('counts sends, deliveries and their latency, sockets, subscriptions, errors by code, and says the backends are up', async () => {
    const app = await s.backend.startApp();
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const first = await scrape(app);
    expect(value(first, 'chat_database_up')).toBe(1);
    expect(first.get('chat_redis_up')).toBe(s.name === 'services' ? 1 : undefined);
    expect(first.has('process_cpu_user_seconds_total')).toBe(true);
    expect(value(first, 'chat_ws_open_sockets')).toBe(0);

    const sub = new Subscription(client(app, bob.token), MESSAGE_ADDED, { r: room.id }, messageProbe(app, alice, room));
    await sub.live();
    await sub.flush(); // every probe delivered: nothing more in flight when counting starts
    const before = await scrape(app);
    expect(value(before, 'chat_ws_open_sockets')).toBe(1);
    expect(value(before, WS_SUBS)).toBe(1);

    for (let i = 0; i < 3; i++)
      await gql(app, 'mutation($r: ID!) { sendMessage(input: { roomId: $r, body: "m" }) { id } }', { r: room.id }, alice.token);
    await sub.next(3);
    // An outsider's send over HTTP and subscription over WebSocket: FORBIDDEN twice.
    const dave = await s.seed.user('dave');
    const refused = await gql(
      app,
      'mutation($r: ID!) { sendMessage(input: { roomId: $r, body: "no" }) { id } }',
      { r: room.id },
      dave.token,
    );
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    const outsider = new Subscription(client(app, dave.token), MESSAGE_ADDED, { r: room.id });
    await outsider.settled();
    expect(codes(outsider.results[0]!)).toEqual(['FORBIDDEN']);
    // A document that does not parse, over HTTP.
    expect(codes(await gql(app, '{ nope('))).toEqual(['GRAPHQL_PARSE_FAILED']);

    const after = await scrape(app);
    expect(moved(before, after, 'chat_messages_sent_total')).toBe(3);
    expect(moved(before, after, 'chat_deliveries_total')).toBe(3);
    expect(moved(before, after, 'chat_delivery_latency_seconds_count')).toBe(3);
    expect(moved(before, after, 'chat_delivery_latency_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(moved(before, after, 'chat_graphql_errors_total{code="FORBIDDEN"}')).toBe(2);
    expect(moved(before, after, 'chat_graphql_errors_total{code="GRAPHQL_PARSE_FAILED"}')).toBe(1);
    expect(value(after, 'chat_ws_open_sockets')).toBe(2);
  });

  it('counts subscriptions over SSE while they stream, and messages a feed filled from the database', async () => {
    const app = await s.backend.startApp();
    const isolated = await s.backend.startIsolatedApp();
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const before = await scrape(app);
    const controller = new AbortController();
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({ query: MESSAGE_ADDED, variables: { r: room.id } }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await expect.poll(async () => value(await scrape(app), SSE_SUBS), { timeout: 5000 }).toBe(1);
    // Sent where this instance's pub/sub never hears of it: its feed's poll finds the room ahead and reads the message.
    await gql(
      isolated,
      'mutation($r: ID!) { sendMessage(input: { roomId: $r, body: "unannounced" }) { id } }',
      { r: room.id },
      alice.token,
    );
    while (!text.includes('unannounced')) text += decoder.decode((await reader.read()).value, { stream: true });
    const after = await scrape(app);
    expect(moved(before, after, 'chat_feed_gap_messages_filled_total')).toBe(1);
    expect(moved(before, after, 'chat_deliveries_total')).toBe(1);
    expect(moved(before, after, 'chat_messages_sent_total')).toBe(0); // sent by the other instance
    controller.abort();
    await expect.poll(async () => value(await scrape(app), SSE_SUBS), { timeout: 5000 }).toBe(0);
  });

  it('counts rate-limit refusals by limit, and a slow reader closed with 1013', async () => {
    const app = await s.backend.startApp({
      wsMaxBufferedBytes: 4096,
      // Per user, so shared Redis counts nobody else's sends against carol.
      rateLimits: { ...s.backend.config.rateLimits, send: { points: 1, seconds: 60 } },
    });
    const carol = await s.seed.user('carol');
    const own = await s.seed.room(carol);
    const send = () =>
      gql(app, 'mutation($r: ID!) { sendMessage(input: { roomId: $r, body: "m" }) { id } }', { r: own.id }, carol.token);
    const before = await scrape(app);
    expect(codes(await send())).toEqual([]);
    expect(codes(await send())).toEqual(['RATE_LIMITED']);

    // A socket with many subscriptions to one room that stops reading: each message is many frames for it.
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const stalled = new WebSocket(wsUrl(app), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => stalled.on('close', (code) => resolve(code)));
    await new Promise((resolve) => stalled.once('open', resolve));
    stalled.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bob.token}` } }));
    await new Promise((resolve) => stalled.once('message', resolve)); // connection_ack
    for (let i = 0; i < 100; i++) {
      stalled.send(
        JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: MESSAGE_ADDED, variables: { r: room.id } } }),
      );
    }
    await expect.poll(async () => value(await scrape(app), WS_SUBS), { timeout: 5000 }).toBe(100);
    const raw = (stalled as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const body = 'x'.repeat(3000);
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    for (let i = 0; i < 200 && value(await scrape(app), WS_SUBS) > 0; i++) await s.seed.send(alice, room, body);
    raw.resume();
    expect(await closed).toBe(1013);
    expect(isClosed).toBe(true);

    const after = await scrape(app);
    expect(moved(before, after, 'chat_rate_limited_total{limit="send"}')).toBe(1);
    expect(moved(before, after, 'chat_graphql_errors_total{code="RATE_LIMITED"}')).toBe(1);
    expect(moved(before, after, 'chat_slow_reader_closes_total{reason="buffer"}')).toBe(1);
    expect(value(after, WS_SUBS)).toBe(0);
    expect(value(after, 'chat_ws_open_sockets')).toBe(0);
  }, 30_000);

  it('wants the bearer token when METRICS_TOKEN is set, and is not served with METRICS=false', async () => {
    const token = 'a-metrics-token-of-some-length';
    const guarded = await s.backend.startApp({ metrics: { enabled: true, token } });
    expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all!!' } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('chat_messages_sent_total');
    const off = await s.backend.startApp({ metrics: { enabled: false, token: null } });
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
  });
});

/**
 * npm run bench [-- --subscribers 200 --messages 50 --runs 5]
 *
 * Measures, in one process on loopback:
 *  - send: sendMessage over HTTP, 10 concurrent clients (messages/s);
 *  - fanout: one room, N graphql-ws subscribers of messageAdded, M messages
 *    sent; deliveries/s from the first send to the last delivery;
 *  - baseline: a raw `ws` server broadcasting a payload of the same size to N
 *    raw sockets, the ceiling the fan-out is compared against.
 * Each scenario runs several times; medians and the fanout/baseline ratio are
 * printed. Absolute numbers drift on shared machines: compare ratios.
 * With BENCH_DATABASE_URL and BENCH_REDIS_URL it runs against real Postgres
 * (a database it creates and drops) and Redis; otherwise embedded.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { WebSocket, WebSocketServer } from 'ws';
import { createApp, type App } from '../src/app.js';
import type { Config } from '../src/config.js';
import { gqlOk, Subscription, wsClient } from '../test/support/client.js';
import { seeder } from '../test/support/seed.js';

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '200' },
    messages: { type: 'string', default: '50' },
    sends: { type: 'string', default: '300' },
    runs: { type: 'string', default: '5' },
  },
});
const N = Number(args.subscribers);
const M = Number(args.messages);
const SENDS = Number(args.sends);
const RUNS = Number(args.runs);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const now = () => performance.now();

async function withApp<T>(body: (app: App) => Promise<T>): Promise<T> {
  const dbUrl = process.env.BENCH_DATABASE_URL;
  const redisUrl = process.env.BENCH_REDIS_URL;
  let drop = async () => {};
  let database: Config['database'] = { kind: 'pglite', dir: null };
  if (dbUrl) {
    const name = `chat_bench_${randomBytes(4).toString('hex')}`;
    const admin = postgres(dbUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(dbUrl);
    url.pathname = `/${name}`;
    database = { kind: 'postgres', url: url.toString(), poolSize: 10 };
    drop = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const app = createApp({
    port: 0,
    host: '127.0.0.1',
    database,
    redis: redisUrl ? { url: redisUrl } : null,
    redisPrefix: `bench:${randomBytes(4).toString('hex')}:`,
    jwt: { secret: new TextEncoder().encode('bench-secret-that-is-at-least-32-bytes!!'), ttlSeconds: 3600 },
    logLevel: 'error',
    feedPollMs: 2000,
    typingTimeoutMs: 5000,
    presenceTtlMs: 20_000,
    presenceHeartbeatMs: 5000,
  });
  await app.start();
  try {
    return await body(app);
  } finally {
    await app.stop();
    await drop();
  }
}

async function benchSend(app: App): Promise<number> {
  const seed = seeder(app);
  const alice = await seed.user('alice');
  const room = await seed.room(alice);
  let next = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < SENDS) {
        next++;
        await gqlOk(
          app,
          'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }',
          { i: { roomId: room.id, body: 'x'.repeat(120) } },
          alice.token,
        );
      }
    }),
  );
  return SENDS / ((now() - start) / 1000);
}

async function benchFanout(app: App): Promise<{ rate: number; payloadBytes: number }> {
  const seed = seeder(app);
  const alice = await seed.user('alice');
  const room = await seed.room(alice);
  const listener = await seed.user('listener');
  await seed.invite(alice, room, listener);
  const clients = Array.from({ length: N }, () => wsClient(app, listener.token));
  const subs = clients.map(
    (c) =>
      new Subscription(c, 'subscription($r: ID!) { messageAdded(roomId: $r) { id seq body author { username } } }', {
        r: room.id,
      }),
  );
  const send = () =>
    gqlOk(
      app,
      'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }',
      { i: { roomId: room.id, body: 'x'.repeat(120) } },
      alice.token,
    );
  // Warm-up: a subscription without `after` starts at the newest message when
  // it registers, so wait until every one has the first message, then time.
  for (let i = 0; i < 200 && subs.some((s) => s.values.length === 0); i++) {
    await send();
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  const base = subs.map((s) => s.values.length);
  const start = now();
  for (let i = 0; i < M; i++) await send();
  await Promise.all(subs.map((s, i) => s.next(base[i]! + M, 120_000)));
  const elapsed = now() - start;
  const payloadBytes = JSON.stringify({ id: '1', type: 'next', payload: subs[0]!.results[0] }).length;
  await Promise.all(clients.map(async (c) => c.dispose()));
  return { rate: (N * M) / (elapsed / 1000), payloadBytes };
}

/** The same fan-out with raw ws: one prepared frame, sent to every socket. */
async function benchRawWs(payloadBytes: number): Promise<number> {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let received = 0;
  let done: () => void = () => {};
  const sockets = await Promise.all(
    Array.from(
      { length: N },
      () =>
        new Promise<WebSocket>((resolve) => {
          const ws = new WebSocket(url);
          ws.on('open', () => resolve(ws));
          ws.on('message', () => {
            if (++received === N * M) done();
          });
        }),
    ),
  );
  const finished = new Promise<void>((r) => (done = r));
  const frame = JSON.stringify({ type: 'next', id: '1', payload: 'x'.repeat(Math.max(0, payloadBytes - 40)) });
  const start = now();
  for (let i = 0; i < M; i++) {
    for (const client of wss.clients) client.send(frame);
    await new Promise((r) => setImmediate(r));
  }
  await finished;
  const elapsed = now() - start;
  for (const ws of sockets) ws.close();
  wss.close();
  server.close();
  return (N * M) / (elapsed / 1000);
}

async function main() {
  const backend = process.env.BENCH_DATABASE_URL ? 'postgres+redis' : 'embedded (PGlite, in-process pub/sub)';
  console.log(
    `chat-server bench: ${backend}; ${N} subscribers x ${M} messages; ${SENDS} sends; ${RUNS} runs; node ${process.version}`,
  );
  const sends: number[] = [];
  const fanouts: number[] = [];
  const raws: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    await withApp(async (app) => {
      sends.push(await benchSend(app));
      const { rate, payloadBytes } = await benchFanout(app);
      fanouts.push(rate);
      raws.push(await benchRawWs(payloadBytes));
    });
    console.log(
      `run ${run}: send ${sends.at(-1)!.toFixed(0)} msg/s, fanout ${fanouts.at(-1)!.toFixed(0)} deliveries/s, raw ws ${raws.at(-1)!.toFixed(0)} deliveries/s`,
    );
  }
  const ratio = median(fanouts) / median(raws);
  console.log('');
  console.log('| scenario | median |');
  console.log('| --- | --- |');
  console.log(`| sendMessage over HTTP, 10 concurrent | ${median(sends).toFixed(0)} messages/s |`);
  console.log(`| messageAdded fan-out, graphql-ws | ${median(fanouts).toFixed(0)} deliveries/s |`);
  console.log(`| raw ws broadcast, same payload size (baseline) | ${median(raws).toFixed(0)} deliveries/s |`);
  console.log(`| fan-out / baseline | ${(ratio * 100).toFixed(1)} % |`);
}

await main();
process.exit(0);

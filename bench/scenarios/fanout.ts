/**
 * fanout: one room, S graphql-ws subscribers of messageAdded, M messages sent
 * over HTTP; the raw `ws` baseline broadcasts M frames of the same size to S
 * sockets. cluster: the same over two instances on one database and Redis
 * (half the subscribers on each, sends through the first), beside a
 * single-instance run and the raw baseline of the same invocation.
 */
import { roomId, seedRooms, seedUsers, tokensFor } from '../db.js';
import { Generators, JWT_SECRET, log, startChild, startServer, type ServerProc } from '../harness.js';
import type { ClientSpec } from '../loadgen.js';
import { sleep } from '../stats.js';
import {
  backend,
  fmtInt,
  fmtLatency,
  fmtNum,
  mergeCollects,
  Meter,
  num,
  ratio,
  recordLoad,
  remaining,
  shard,
  type Ctx,
  type Delivery,
} from './common.js';

export const MESSAGE_SUBSCRIPTION =
  'subscription($r: ID!) { messageAdded(roomId: $r) { id seq body createdAt author { id username } } }';

export async function connectAll(ctx: Ctx, gens: Generators, clients: ClientSpec[], label: string): Promise<void> {
  const parts = shard(clients, gens.children.length);
  const results = await gens.all(
    'connect',
    (i) => ({ clients: parts[i], concurrency: num(ctx, 'connect-concurrency'), timeoutMs: 20_000, label }),
    remaining(ctx),
  );
  const opened = results.reduce((n, r) => n + r.opened, 0);
  log(`${label}: ${opened}/${clients.length} sockets acked`);
  if (opened < clients.length) {
    throw new Error(`${label}: ${clients.length - opened} sockets failed: ${results.flatMap((r) => r.failures).join('; ')}`);
  }
}

/**
 * A subscription without `after` is live once registered: send one message to
 * each room until every subscriber received something. Returns each room's
 * newest seq; the measured window starts after it.
 */
export async function warmUp(
  ctx: Ctx,
  gens: Generators,
  url: string,
  sends: Array<{ token: string; room: string }>,
  label: string,
): Promise<Record<string, number>> {
  const lastSeq: Record<string, number> = {};
  for (let round = 1; round <= 100; round++) {
    if (remaining(ctx) <= 1000) break;
    const { seqs, errorSamples } = await gens.first.call(
      'sendEach',
      { url, sends, bodyBytes: num(ctx, 'body-bytes'), concurrency: 8 },
      remaining(ctx),
    );
    (seqs as Array<number | null>).forEach((seq, i) => {
      const room = sends[i]!.room;
      if (seq !== null) lastSeq[room] = Math.max(lastSeq[room] ?? 0, seq);
    });
    if (errorSamples.length) log(`${label}: warm-up send errors: ${errorSamples.join('; ')}`);
    let subs = 0;
    let live = 0;
    let states: LiveState[] = [];
    for (let waited = 0; waited < 1000; waited += 100) {
      await sleep(100);
      states = await gens.all<LiveState>('live', () => ({}), 10_000);
      subs = states.reduce((n, s) => n + s.subs, 0);
      live = states.reduce((n, s) => n + s.live, 0);
      if (live === subs) break;
    }
    const resubscribed = states.reduce((n, s) => n + s.resubscribed, 0);
    const closed = states.reduce((n, s) => n + s.sockets - s.open, 0);
    if (closed > 0) throw new Error(`${label}: ${closed} sockets closed by the server`);
    if (resubscribed > 0) {
      log(
        `${label}: the server ended ${resubscribed} subscriptions so far (${states.find((s) => s.firstEnded)?.firstEnded}); subscribed again`,
      );
    }
    if (live < subs && round % 10 === 0) {
      const waiting: Record<string, number> = {};
      for (const s of states) for (const [room, n] of Object.entries(s.waiting)) waiting[room] = (waiting[room] ?? 0) + n;
      log(`${label}: rooms with subscribers not live yet: ${JSON.stringify(waiting).slice(0, 500)}`);
    }
    log(`${label}: ${live}/${subs} subscribers live (warm-up round ${round})`);
    if (live === subs) {
      const resubscribed = states.reduce((n, s) => n + s.resubscribed, 0);
      if (resubscribed > 0) {
        ctx.report.set('setup', `${label}: subscriptions ended by the server before the window, subscribed again`, resubscribed);
        ctx.report.row(label, 'subscriptions the server ended during set-up (subscribed again)', fmtInt(resubscribed));
        ctx.report.note(
          `${label}: the server ended ${resubscribed} live subscriptions during set-up (${states.find((s) => s.firstEnded)?.firstEnded}); the generator subscribed them again before measuring`,
        );
      }
      await sleep(500); // let the last warm-up deliveries drain before the window opens
      return lastSeq;
    }
  }
  throw new Error(`${label}: not every subscriber became live`);
}

interface LiveState {
  resubscribed: number;
  subs: number;
  live: number;
  ended: number;
  firstEnded: string | null;
  waiting: Record<string, number>;
  sockets: number;
  open: number;
}

export interface FanoutFigures {
  label: string;
  subscribers: number;
  messages: number;
  frameBytes: number | null;
  deliveriesPerSec: number | null;
  elapsedMs: number | null;
  delivery: Delivery;
  cpuUsPerDelivery: number | null;
  window: ReturnType<Meter['end']>;
  rssBeforeKB: Record<string, number>;
  rssAfterKB: Record<string, number>;
  sendErrors?: number;
  sendErrorSamples?: string[];
}

function deliveryRate(d: Delivery, firstSendAt: number) {
  const elapsedMs = d.lastRecvAt !== null ? d.lastRecvAt - firstSendAt : null;
  return { elapsedMs, deliveriesPerSec: elapsedMs ? (d.distinct / elapsedMs) * 1000 : null };
}

export async function measureServerFanout(
  ctx: Ctx,
  options: {
    label: string;
    servers: ServerProc[];
    gens: Generators;
    room: string;
    senderToken: string;
    subscriberTokens: string[];
  },
): Promise<FanoutFigures> {
  const { label, servers, gens, room } = options;
  const meter = Meter.of(servers, gens);
  const rssBeforeKB = meter.rss();
  const clients: ClientSpec[] = options.subscriberTokens.map((token, i) => ({
    url: servers[i % servers.length]!.wsUrl,
    token,
    subs: [{ room, query: MESSAGE_SUBSCRIPTION, variables: { r: room } }],
  }));
  await connectAll(ctx, gens, clients, label);
  const sendVia = servers[0]!;
  const from = await warmUp(ctx, gens, sendVia.url, [{ token: options.senderToken, room }], label);
  const frameBytes =
    Math.max(...(await gens.all<{ bytes: number | null }>('frameBytes', () => ({}), 10_000)).map((f) => f.bytes ?? 0)) || null;
  recordLoad(ctx, label);
  await gens.all('window', () => ({ from }), 10_000);
  meter.begin();
  const messages = num(ctx, 'messages');
  log(`${label}: sending ${messages} messages (${num(ctx, 'send-concurrency')} at a time) to ${clients.length} subscribers`);
  const burst = await gens.first.call(
    'sendBurst',
    {
      url: sendVia.url,
      token: options.senderToken,
      room,
      count: messages,
      concurrency: num(ctx, 'send-concurrency'),
      bodyBytes: num(ctx, 'body-bytes'),
    },
    remaining(ctx),
  );
  const parts = await gens.all(
    'collect',
    () => ({ to: { [room]: burst.maxSeq }, timeoutMs: remaining(ctx, 20_000), quietMs: 10_000 }),
    remaining(ctx, 5000),
  );
  const window = meter.end();
  const rssAfterKB = meter.rss();
  await gens.all('closeAll', () => ({}), 30_000);
  const delivery = mergeCollects(parts);
  const serverCpu = servers.reduce((n, s) => n + window.cpuMs[s.name]!, 0);
  return {
    label,
    subscribers: clients.length,
    messages,
    frameBytes,
    ...deliveryRate(delivery, burst.firstSendAt),
    delivery,
    cpuUsPerDelivery: delivery.distinct ? (serverCpu * 1000) / delivery.distinct : null,
    window,
    rssBeforeKB,
    rssAfterKB,
    sendErrors: burst.errors,
    sendErrorSamples: burst.errorSamples,
  };
}

export async function measureRawFanout(
  ctx: Ctx,
  options: { gens: Generators; subscribers: number; frameBytes: number },
): Promise<FanoutFigures> {
  const { gens } = options;
  const label = 'raw ws';
  const raw = await startChild('raw-server', 'raw-server.ts');
  try {
    const { port } = await raw.call('listen', {}, 10_000);
    const meter = new Meter({ raw: raw.pid, ...gens.pids() });
    const rssBeforeKB = meter.rss();
    const clients: ClientSpec[] = Array.from({ length: options.subscribers }, () => ({
      url: `ws://127.0.0.1:${port}/graphql`,
      token: 'raw',
      subs: [{ room: 'raw', query: MESSAGE_SUBSCRIPTION, variables: { r: 'raw' } }],
    }));
    await connectAll(ctx, gens, clients, label);
    for (let i = 0; (await raw.call('stats', {}, 10_000)).subs < options.subscribers; i++) {
      if (i > 100) throw new Error('raw ws: subscriptions did not arrive');
      await sleep(100);
    }
    await sleep(500);
    recordLoad(ctx, label);
    await gens.all('window', () => ({ from: { raw: 0 } }), 10_000);
    const messages = num(ctx, 'messages');
    log(`${label}: broadcasting ${messages} frames of ${options.frameBytes} bytes to ${options.subscribers} sockets`);
    meter.begin();
    const broadcast = await raw.call('broadcast', { count: messages, frameBytes: options.frameBytes }, remaining(ctx));
    const parts = await gens.all(
      'collect',
      () => ({ to: { raw: messages }, timeoutMs: remaining(ctx, 20_000), quietMs: 10_000 }),
      remaining(ctx, 5000),
    );
    const window = meter.end();
    const rssAfterKB = meter.rss();
    await gens.all('closeAll', () => ({}), 30_000);
    const delivery = mergeCollects(parts);
    return {
      label,
      subscribers: options.subscribers,
      messages,
      frameBytes: options.frameBytes,
      ...deliveryRate(delivery, broadcast.startedAt),
      delivery,
      cpuUsPerDelivery: delivery.distinct ? (window.cpuMs.raw! * 1000) / delivery.distinct : null,
      window,
      rssBeforeKB,
      rssAfterKB,
    };
  } finally {
    await raw.stop();
  }
}

export function fanoutRows(ctx: Ctx, part: string, f: FanoutFigures, serverNames: string[]): void {
  const r = ctx.report;
  const d = f.delivery;
  r.set(part, 'figures', f);
  r.row(part, 'deliveries/s', `${fmtInt(f.deliveriesPerSec)} (${fmtInt(d.distinct)} in ${fmtInt(f.elapsedMs)} ms)`);
  r.row(part, 'latency p50 / p95 / p99', fmtLatency(d.latency));
  r.row(part, 'lost / duplicated', `${fmtInt(d.lost)} / ${fmtInt(d.duplicates)} (of ${fmtInt(d.expected)})`);
  r.row(part, 'server CPU per delivery', `${fmtNum(f.cpuUsPerDelivery, 1)} µs`);
  const rss = serverNames.map((n) => `${fmtNum(f.rssBeforeKB[n]! / 1024, 1)} → ${fmtNum(f.rssAfterKB[n]! / 1024, 1)}`).join(', ');
  r.row(part, 'server RSS before → after', `${rss} MB`);
  const gens = Object.entries(f.window.cpuPercent).filter(([n]) => n.startsWith('loadgen'));
  r.row(part, 'generator CPU (one core = 100 %)', gens.map(([n, p]) => `${n} ${fmtNum(p, 0)} %`).join(', '));
  r.row(part, 'server CPU (one core = 100 %)', serverNames.map((n) => `${fmtNum(f.window.cpuPercent[n], 0)} %`).join(', '));
  r.row(part, 'other busy cores (Postgres, Redis, rest)', fmtNum(f.window.otherCores));
  if (f.frameBytes) r.row(part, 'frame bytes', fmtInt(f.frameBytes));
  const closes = Object.entries(d.closes);
  if (closes.length || d.errorFrames || f.sendErrors || d.endedInWindow) {
    r.row(
      part,
      'errors',
      `closes ${JSON.stringify(d.closes)}, error frames ${d.errorFrames}, subscriptions ended ${d.endedInWindow}, send errors ${f.sendErrors ?? 0}`,
    );
  }
  if (d.firstErrorFrame) r.note(`${part}: first error frame: ${d.firstErrorFrame}`);
  if (f.sendErrorSamples?.length) r.note(`${part}: send errors: ${f.sendErrorSamples.join('; ')}`);
}

async function seedFanout(ctx: Ctx, rooms: number) {
  const b = await backend(ctx);
  const subscribers = num(ctx, 'subscribers');
  log(`seeding ${subscribers + 1} users and ${rooms} room(s)`);
  const users = await seedUsers(b.db, subscribers + 1);
  await seedRooms(
    b.db,
    Array.from({ length: rooms }, (_, i) => ({ id: roomId(i + 1), members: users })),
  );
  const tokens = await tokensFor(users, JWT_SECRET);
  await b.db.release();
  return { b, senderToken: tokens[0]!, subscriberTokens: tokens.slice(1) };
}

export async function runFanout(ctx: Ctx): Promise<void> {
  const { b, senderToken, subscriberTokens } = await seedFanout(ctx, 1);
  const server = await startServer({ name: 'server', serverDir: ctx.serverDir, env: b.serverEnv() });
  const gens = await Generators.start(num(ctx, 'loadgens'));
  const single = await measureServerFanout(ctx, {
    label: 'server',
    servers: [server],
    gens,
    room: roomId(1),
    senderToken,
    subscriberTokens,
  });
  fanoutRows(ctx, 'server', single, ['server']);
  const raw = await measureRawFanout(ctx, { gens, subscribers: subscriberTokens.length, frameBytes: single.frameBytes ?? 300 });
  fanoutRows(ctx, 'raw ws', raw, ['raw']);
  const r = ratio(single.deliveriesPerSec, raw.deliveriesPerSec);
  ctx.report.set('ratio', 'serverToRaw', r);
  ctx.report.row('ratio', 'server ÷ raw ws deliveries/s', `${fmtNum(r, 3)}×`);
}

export async function runCluster(ctx: Ctx): Promise<void> {
  if (!process.env.BENCH_DATABASE_URL || !process.env.BENCH_REDIS_URL) {
    throw new Error('cluster needs BENCH_DATABASE_URL and BENCH_REDIS_URL (two instances share one Postgres and one Redis)');
  }
  const { b, senderToken, subscriberTokens } = await seedFanout(ctx, 2);
  const a = await startServer({ name: 'server-a', serverDir: ctx.serverDir, env: b.serverEnv() });
  const gens = await Generators.start(num(ctx, 'loadgens'));
  const single = await measureServerFanout(ctx, {
    label: 'one instance',
    servers: [a],
    gens,
    room: roomId(1),
    senderToken,
    subscriberTokens,
  });
  fanoutRows(ctx, 'one instance', single, ['server-a']);
  const raw = await measureRawFanout(ctx, { gens, subscribers: subscriberTokens.length, frameBytes: single.frameBytes ?? 300 });
  fanoutRows(ctx, 'raw ws', raw, ['raw']);
  const bInstance = await startServer({ name: 'server-b', serverDir: ctx.serverDir, env: b.serverEnv() });
  const two = await measureServerFanout(ctx, {
    label: 'two instances',
    servers: [a, bInstance],
    gens,
    room: roomId(2),
    senderToken,
    subscriberTokens,
  });
  fanoutRows(ctx, 'two instances', two, ['server-a', 'server-b']);
  const r1 = ratio(single.deliveriesPerSec, raw.deliveriesPerSec);
  const r2 = ratio(two.deliveriesPerSec, raw.deliveriesPerSec);
  const q = ratio(r2, r1);
  ctx.report.set('ratio', 'oneInstanceToRaw', r1);
  ctx.report.set('ratio', 'twoInstancesToRaw', r2);
  ctx.report.set('ratio', 'twoToOne', q);
  ctx.report.row('ratio', 'one instance ÷ raw ws', `${fmtNum(r1, 3)}×`);
  ctx.report.row('ratio', 'two instances ÷ raw ws', `${fmtNum(r2, 3)}×`);
  ctx.report.row('ratio', 'two-instance ratio ÷ one-instance ratio', `${fmtNum(q, 3)}×`);
}

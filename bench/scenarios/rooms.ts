/**
 * rooms: many sockets in many small rooms at a steady send rate. Each socket
 * is one user subscribed to messageAdded of its one room; room sizes are
 * random in [min-room, max-room] (seeded); senders (random members of random
 * rooms, seeded) post at a steady total rate over HTTP keep-alive.
 */
import { roomId, seedRooms, seedUsers, tokensFor } from '../db.js';
import { Generators, JWT_SECRET, log, startServer } from '../harness.js';
import type { ClientSpec } from '../loadgen.js';
import { percentiles, seededRandom } from '../stats.js';
import { backend, fmtInt, fmtLatency, fmtNum, mergeCollects, Meter, num, recordLoad, remaining, type Ctx } from './common.js';
import { connectAll, MESSAGE_SUBSCRIPTION, warmUp } from './fanout.js';

/** Room sizes summing to `sockets`, each in [min, max] (the last one folds into the one before when too small). */
export function roomSizes(sockets: number, min: number, max: number, seed: number): number[] {
  const random = seededRandom(seed);
  const sizes: number[] = [];
  let left = sockets;
  while (left > 0) {
    const size = Math.min(left, min + Math.floor(random() * (max - min + 1)));
    sizes.push(size);
    left -= size;
  }
  if (sizes.length > 1 && sizes.at(-1)! < min) sizes[sizes.length - 2]! += sizes.pop()!;
  return sizes;
}

export async function runRooms(ctx: Ctx): Promise<void> {
  const sockets = num(ctx, 'sockets');
  const sizes = roomSizes(sockets, num(ctx, 'min-room'), num(ctx, 'max-room'), num(ctx, 'seed'));
  const b = await backend(ctx);
  log(`seeding ${sockets} users in ${sizes.length} rooms of ${Math.min(...sizes)}-${Math.max(...sizes)}`);
  const users = await seedUsers(b.db, sockets);
  const rooms: Array<{ id: string; members: string[] }> = [];
  let next = 0;
  sizes.forEach((size, i) => {
    rooms.push({ id: roomId(i + 1), members: users.slice(next, next + size) });
    next += size;
  });
  await seedRooms(b.db, rooms);
  const tokens = await tokensFor(users, JWT_SECRET);
  const tokenOf = new Map(users.map((u, i) => [u, tokens[i]!]));
  await b.db.release();
  const server = await startServer({ name: 'server', serverDir: ctx.serverDir, env: b.serverEnv() });
  const gens = await Generators.start(num(ctx, 'loadgens'));
  const meter = Meter.of([server], gens);
  const rssBeforeKB = meter.rss();
  const clients: ClientSpec[] = rooms.flatMap((room) =>
    room.members.map((m) => ({
      url: server.wsUrl,
      token: tokenOf.get(m)!,
      subs: [{ room: room.id, query: MESSAGE_SUBSCRIPTION, variables: { r: room.id } }],
    })),
  );
  await connectAll(ctx, gens, clients, 'rooms');
  const from = await warmUp(
    ctx,
    gens,
    server.url,
    rooms.map((r) => ({ room: r.id, token: tokenOf.get(r.members[0]!)! })),
    'rooms',
  );
  const rssLiveKB = meter.rss();
  recordLoad(ctx, 'rooms');
  await gens.all('window', () => ({ from }), 10_000);
  const rate = num(ctx, 'rate');
  const durationMs = num(ctx, 'duration') * 1000;
  log(`rooms: sending ${rate} messages/s for ${durationMs / 1000} s`);
  meter.begin();
  const sent = await gens.first.call(
    'sendRate',
    {
      url: server.url,
      rooms: rooms.map((r) => ({ room: r.id, tokens: r.members.map((m) => tokenOf.get(m)!) })),
      rate,
      durationMs,
      bodyBytes: num(ctx, 'body-bytes'),
      maxInFlight: num(ctx, 'max-in-flight'),
      seed: num(ctx, 'seed') + 1,
    },
    remaining(ctx),
  );
  const to: Record<string, number> = { ...from, ...sent.maxSeq };
  const parts = await gens.all(
    'collect',
    () => ({ to, timeoutMs: remaining(ctx, 20_000), quietMs: 10_000 }),
    remaining(ctx, 5000),
  );
  const window = meter.end();
  const rssAfterKB = meter.rss();
  await gens.all('closeAll', () => ({}), 30_000);
  const d = mergeCollects(parts);
  const elapsedMs = d.lastRecvAt !== null ? d.lastRecvAt - sent.startedAt : null;
  const deliveriesPerSec = elapsedMs ? (d.distinct / elapsedMs) * 1000 : null;
  const sendSeconds = (sent.sendingEndedAt - sent.startedAt) / 1000;
  const cpuUsPerDelivery = d.distinct ? (window.cpuMs.server! * 1000) / d.distinct : null;
  const sendLatency = percentiles(sent.sendLatencies);
  const r = ctx.report;
  r.set('rooms', 'layout', {
    sockets,
    rooms: sizes.length,
    minSize: Math.min(...sizes),
    maxSize: Math.max(...sizes),
    meanSize: sockets / sizes.length,
  });
  r.set('rooms', 'figures', {
    deliveriesPerSec,
    elapsedMs,
    delivery: d,
    sends: { ...sent, sendLatencies: undefined, sendLatency, perSec: sent.ok / sendSeconds },
    cpuUsPerDelivery,
    window,
    rssBeforeKB,
    rssLiveKB,
    rssAfterKB,
  });
  r.row(
    'rooms',
    'layout',
    `${fmtInt(sockets)} sockets in ${sizes.length} rooms of ${Math.min(...sizes)}-${Math.max(...sizes)} (mean ${fmtNum(sockets / sizes.length, 1)})`,
  );
  r.row(
    'rooms',
    'sends',
    `${fmtInt(sent.ok)} ok in ${fmtNum(sendSeconds, 1)} s (${fmtInt(sent.ok / sendSeconds)}/s of ${fmtInt(rate)}/s asked), ${sent.errors} errors, ${sent.skipped} skipped (over ${num(ctx, 'max-in-flight')} in flight)`,
  );
  r.row('rooms', 'send latency p50 / p95 / p99', fmtLatency(sendLatency));
  r.row('rooms', 'deliveries/s', `${fmtInt(deliveriesPerSec)} (${fmtInt(d.distinct)} in ${fmtInt(elapsedMs)} ms)`);
  r.row('rooms', 'latency p50 / p95 / p99', fmtLatency(d.latency));
  r.row('rooms', 'lost / duplicated', `${fmtInt(d.lost)} / ${fmtInt(d.duplicates)} (of ${fmtInt(d.expected)})`);
  r.row('rooms', 'server CPU per delivery', `${fmtNum(cpuUsPerDelivery, 1)} µs (sends included)`);
  r.row(
    'rooms',
    'server RSS before → subscribed → after',
    `${fmtNum(rssBeforeKB.server! / 1024, 1)} → ${fmtNum(rssLiveKB.server! / 1024, 1)} → ${fmtNum(rssAfterKB.server! / 1024, 1)} MB`,
  );
  r.row(
    'rooms',
    'server / generator CPU (one core = 100 %)',
    `${fmtNum(window.cpuPercent.server, 0)} % / ${Object.entries(window.cpuPercent)
      .filter(([n]) => n.startsWith('loadgen'))
      .map(([, p]) => `${fmtNum(p, 0)} %`)
      .join(', ')}`,
  );
  r.row('rooms', 'other busy cores (Postgres, Redis, rest)', fmtNum(window.otherCores));
  if (Object.keys(d.closes).length || d.errorFrames)
    r.row('rooms', 'errors', `closes ${JSON.stringify(d.closes)}, error frames ${d.errorFrames}`);
  if (sent.errorSamples.length) r.note(`rooms: send errors: ${sent.errorSamples.join('; ')}`);
  if (d.firstErrorFrame) r.note(`rooms: first error frame: ${d.firstErrorFrame}`);
}

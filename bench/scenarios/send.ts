/**
 * send: sendMessage throughput over HTTP keep-alive from closed loops (each
 * sender awaits its previous send). spread: each sender its own user and its
 * own room; hot: every sender a user of its own, all in one room. Baseline:
 * the database ceiling, the one bump-and-insert statement the server runs,
 * from as many postgres.js loops on a pool of --pool connections, spread and hot.
 */
import { roomId, seedRooms, seedUsers, tokensFor } from '../db.js';
import { Generators, JWT_SECRET, log, startServer } from '../harness.js';
import { percentiles } from '../stats.js';
import { backend, fmtInt, fmtLatency, fmtNum, Meter, num, ratio, recordLoad, remaining, str, type Ctx } from './common.js';

export async function runSend(ctx: Ctx): Promise<void> {
  const senders = num(ctx, 'senders');
  const modes = str(ctx, 'mode')
    .split(',')
    .map((m) => m.trim()) as Array<'spread' | 'hot'>;
  const b = await backend(ctx);
  const users = await seedUsers(b.db, senders);
  const hotRoom = roomId(senders + 1);
  await seedRooms(b.db, [...users.map((u, i) => ({ id: roomId(i + 1), members: [u] })), { id: hotRoom, members: users }]);
  const tokens = await tokensFor(users, JWT_SECRET);
  await b.db.release();
  const server = await startServer({ name: 'server', serverDir: ctx.serverDir, env: b.serverEnv() });
  const gens = await Generators.start(1);
  const meter = Meter.of([server], gens);
  const durationMs = num(ctx, 'duration') * 1000;
  const warmupMs = num(ctx, 'warmup') * 1000;
  const bodyBytes = num(ctx, 'body-bytes');
  const r = ctx.report;
  const loops = (mode: 'spread' | 'hot') =>
    users.map((u, i) => ({ token: tokens[i]!, user: u, room: mode === 'hot' ? hotRoom : roomId(i + 1) }));

  for (const mode of modes) {
    const senderList = loops(mode).map(({ token, room }) => ({ token, room }));
    log(`send ${mode}: warm-up ${warmupMs / 1000} s`);
    await gens.first.call('sendLoops', { url: server.url, senders: senderList, durationMs: warmupMs, bodyBytes }, remaining(ctx));
    recordLoad(ctx, `send ${mode}`);
    log(`send ${mode}: ${senders} senders for ${durationMs / 1000} s`);
    meter.begin();
    const res = await gens.first.call(
      'sendLoops',
      { url: server.url, senders: senderList, durationMs, bodyBytes },
      remaining(ctx),
    );
    const window = meter.end();
    const seconds = (res.endedAt - res.startedAt) / 1000;
    const perSec = res.ok / seconds;
    const latency = percentiles(res.latencies);
    const cpuUsPerSend = res.ok ? (window.cpuMs.server! * 1000) / res.ok : null;
    r.set(`server ${mode}`, 'figures', {
      ok: res.ok,
      errors: res.errors,
      errorSamples: res.errorSamples,
      seconds,
      perSec,
      latency,
      cpuUsPerSend,
      window,
    });
    r.row(`server ${mode}`, 'sends/s', `${fmtInt(perSec)} (${fmtInt(res.ok)} in ${fmtNum(seconds, 1)} s)`);
    r.row(`server ${mode}`, 'latency p50 / p95 / p99', fmtLatency(latency));
    r.row(`server ${mode}`, 'errors', fmtInt(res.errors));
    r.row(`server ${mode}`, 'server CPU per send', `${fmtNum(cpuUsPerSend, 0)} µs`);
    r.row(
      `server ${mode}`,
      'server / generator CPU, other busy cores',
      `${fmtNum(window.cpuPercent.server, 0)} % / ${fmtNum(window.cpuPercent['loadgen-0'], 0)} %, ${fmtNum(window.otherCores)}`,
    );
    if (res.errorSamples.length) r.note(`send ${mode}: ${res.errorSamples.join('; ')}`);
  }

  if (!b.db.url) {
    r.note('database ceiling: n/a on embedded PGlite (it runs inside the server process); set BENCH_DATABASE_URL');
    r.row('ceiling', 'statements/s', 'n/a (embedded)');
    return;
  }
  const pool = num(ctx, 'pool');
  for (const mode of modes) {
    const list = loops(mode).map(({ user, room }) => ({ user, room }));
    log(`ceiling ${mode}: warm-up ${warmupMs / 1000} s`);
    await gens.first.call('ceiling', { dbUrl: b.db.url, pool, loops: list, durationMs: warmupMs, bodyBytes }, remaining(ctx));
    recordLoad(ctx, `ceiling ${mode}`);
    log(`ceiling ${mode}: ${senders} postgres.js loops (pool ${pool}) for ${durationMs / 1000} s`);
    const res = await gens.first.call('ceiling', { dbUrl: b.db.url, pool, loops: list, durationMs, bodyBytes }, remaining(ctx));
    const seconds = (res.endedAt - res.startedAt) / 1000;
    const perSec = res.ok / seconds;
    const latency = percentiles(res.latencies);
    r.set(`ceiling ${mode}`, 'figures', {
      ok: res.ok,
      errors: res.errors,
      errorSamples: res.errorSamples,
      seconds,
      perSec,
      latency,
      pool,
    });
    r.row(
      `ceiling ${mode}`,
      'statements/s',
      `${fmtInt(perSec)} (${fmtInt(res.ok)} in ${fmtNum(seconds, 1)} s, ${senders} loops, pool ${pool})`,
    );
    r.row(`ceiling ${mode}`, 'latency p50 / p95 / p99', fmtLatency(latency));
    const server = r.figures[`server ${mode}`]?.figures as { perSec: number } | undefined;
    const q = ratio(server?.perSec ?? null, perSec);
    r.set('ratio', mode, q);
    r.row('ratio', `server ÷ ceiling, ${mode}`, `${fmtNum(q, 3)}×`);
  }
}

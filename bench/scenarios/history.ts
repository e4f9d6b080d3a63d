/**
 * history: one room with --messages messages seeded in SQL (the seeding time
 * is reported apart), then over HTTP keep-alive, one request at a time:
 * `messages(roomId, last: page-size)` --requests times, and a walk of --pages
 * `before` pages from the newest. p50/p95/p99 per request.
 */
import { roomId, seedHistory, seedRooms, seedUsers, tokensFor } from '../db.js';
import { Generators, JWT_SECRET, log, startServer } from '../harness.js';
import { percentiles } from '../stats.js';
import { backend, fmtInt, fmtLatency, fmtNum, Meter, num, recordLoad, remaining, type Ctx } from './common.js';

export async function runHistory(ctx: Ctx): Promise<void> {
  const count = num(ctx, 'messages');
  const b = await backend(ctx);
  const users = await seedUsers(b.db, 4);
  const room = roomId(1);
  await seedRooms(b.db, [{ id: room, members: users }]);
  log(`history: seeding ${fmtInt(count)} messages`);
  const seedMs = await seedHistory(b.db, room, users, count);
  const [token] = await tokensFor(users.slice(0, 1), JWT_SECRET);
  await b.db.release();
  const server = await startServer({ name: 'server', serverDir: ctx.serverDir, env: b.serverEnv(), timeoutMs: 180_000 });
  const gens = await Generators.start(1);
  const meter = Meter.of([server], gens);
  const args = { url: server.url, token, room, pageSize: num(ctx, 'page-size') };
  await gens.first.call('history', { ...args, requests: 20, pages: 5 }, remaining(ctx));
  recordLoad(ctx, 'history');
  meter.begin();
  const res = await gens.first.call(
    'history',
    { ...args, requests: num(ctx, 'requests'), pages: num(ctx, 'pages') },
    remaining(ctx),
  );
  const window = meter.end();
  const last = percentiles(res.last);
  const walk = percentiles(res.walk);
  const requests = res.last.length + res.walk.length;
  const cpuUsPerRequest = (window.cpuMs.server! * 1000) / requests;
  const r = ctx.report;
  r.set('history', 'figures', {
    messages: count,
    seedMs,
    last,
    walk,
    walked: res.walked,
    wrongPages: res.wrongPages,
    lowestSeq: res.lowestSeq,
    cpuUsPerRequest,
    window,
  });
  r.row('history', 'room', `${fmtInt(count)} messages, seeded in ${fmtNum(seedMs / 1000, 1)} s`);
  r.row('history', `messages(last: ${args.pageSize}) p50 / p95 / p99`, `${fmtLatency(last)} (${fmtInt(last.count)} requests)`);
  r.row(
    'history',
    `before-page walk p50 / p95 / p99`,
    `${fmtLatency(walk)} (${fmtInt(res.walked)} pages, down to seq ${fmtInt(res.lowestSeq)})`,
  );
  r.row('history', 'wrong pages', fmtInt(res.wrongPages));
  r.row('history', 'server CPU per request', `${fmtNum(cpuUsPerRequest, 0)} µs`);
  r.row(
    'history',
    'server / generator CPU, other busy cores',
    `${fmtNum(window.cpuPercent.server, 0)} % / ${fmtNum(window.cpuPercent['loadgen-0'], 0)} %, ${fmtNum(window.otherCores)}`,
  );
}

/**
 * unread: a viewer in --rooms rooms holding --messages messages in all, of
 * which they have read --read-fraction, who blocked one of the authors
 * (seedUnread: the seeding time is reported apart). Then over HTTP
 * keep-alive, one request at a time, --requests `myRooms` with every room's
 * unreadCount, lastReadSeq and lastMessage (plus the Room fields of
 * --fields), each answer checked against the seed. p50/p95/p99 per request.
 */
import { seedUnread, tokensFor } from '../db.js';
import { Generators, JWT_SECRET, log, startServer } from '../harness.js';
import { percentiles } from '../stats.js';
import { backend, fmtInt, fmtLatency, fmtNum, Meter, num, recordLoad, remaining, str, type Ctx } from './common.js';

/** The measured query; `fields` (space-separated, as written) go into the Room selection after the fixed ones. */
export const unreadQuery = (fields: string) =>
  `query { myRooms { id unreadCount unreadMentionCount lastReadSeq lastMessage { id seq }${fields.trim() ? ` ${fields.trim()}` : ''} } }`;

export async function runUnread(ctx: Ctx): Promise<void> {
  const rooms = num(ctx, 'rooms');
  const messages = num(ctx, 'messages');
  const readFraction = num(ctx, 'read-fraction');
  const query = unreadQuery(str(ctx, 'fields'));
  const b = await backend(ctx);
  log(`unread: seeding ${fmtInt(messages)} messages in ${fmtInt(rooms)} rooms`);
  const seed = await seedUnread(b.db, { rooms, messages, readFraction });
  log(`unread: seeded in ${fmtNum(seed.seedMs / 1000, 1)} s`);
  const [token] = await tokensFor([seed.viewer], JWT_SECRET);
  await b.db.release();
  const server = await startServer({ name: 'server', serverDir: ctx.serverDir, env: b.serverEnv(), timeoutMs: 180_000 });
  const gens = await Generators.start(1);
  const meter = Meter.of([server], gens);
  const args = { url: server.url, token, query, expected: seed.rooms };
  await gens.first.call('unread', { ...args, requests: 10 }, remaining(ctx));
  recordLoad(ctx, 'unread');
  meter.begin();
  const res = await gens.first.call('unread', { ...args, requests: num(ctx, 'requests') }, remaining(ctx));
  const window = meter.end();
  const latency = percentiles(res.latencies);
  const cpuUsPerRequest = (window.cpuMs.server! * 1000) / latency.count;
  const unread = seed.rooms.reduce((n, room) => n + room.unreadCount, 0);
  const afterRead = seed.rooms.reduce((n, room) => n + room.lastSeq - room.lastReadSeq, 0);
  const wrong = res.errors + res.wrongRoomCount;
  const r = ctx.report;
  r.set('unread', 'figures', {
    rooms,
    messages,
    readFraction,
    query,
    seedMs: seed.seedMs,
    afterRead,
    unread,
    blockedMessages: seed.blockedMessages,
    latency,
    wrongAnswers: wrong,
    errors: res.errors,
    wrongRoomCount: res.wrongRoomCount,
    mismatched: res.mismatched,
    samples: res.samples,
    cpuUsPerRequest,
    window,
  });
  r.row('unread', 'rooms', `${fmtInt(rooms)} rooms, ${fmtInt(messages)} messages, seeded in ${fmtNum(seed.seedMs / 1000, 1)} s`);
  r.row(
    'unread',
    'after the read position',
    `${fmtInt(afterRead)} messages (${fmtInt(unread)} unread: less the viewer's blocked author; ${fmtInt(seed.blockedMessages)} by them in all)`,
  );
  r.row('unread', 'myRooms p50 / p95 / p99', `${fmtLatency(latency)} (${fmtInt(latency.count)} requests)`);
  r.row(
    'unread',
    'wrong answers',
    `${fmtInt(wrong)} (errors ${fmtInt(res.errors)}, room count ${fmtInt(res.wrongRoomCount)}); ${fmtInt(res.mismatched)} with figures other than seeded`,
  );
  r.row('unread', 'server CPU per request', `${fmtNum(cpuUsPerRequest, 0)} µs`);
  r.row(
    'unread',
    'server / generator CPU, other busy cores',
    `${fmtNum(window.cpuPercent.server, 0)} % / ${fmtNum(window.cpuPercent['loadgen-0'], 0)} %, ${fmtNum(window.otherCores)}`,
  );
  if (res.samples.length) r.note(`unread: ${res.samples.join('; ')}`);
}

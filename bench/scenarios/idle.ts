/**
 * idle: N sockets, each connected, acked and holding one messageAdded
 * subscription (rooms of N/rooms members), then the server's RSS per socket:
 * (RSS once all are live and settled - RSS before opening them) / N. Baseline:
 * the raw `ws` server holding N sockets through the same client handshake.
 */
import { roomId, seedRooms, seedUsers, tokensFor } from '../db.js';
import { Generators, JWT_SECRET, log, rssKb, startChild, startServer } from '../harness.js';
import type { ClientSpec } from '../loadgen.js';
import { sleep } from '../stats.js';
import { backend, fmtInt, fmtNum, num, ratio, recordLoad, type Ctx } from './common.js';
import { connectAll, MESSAGE_SUBSCRIPTION, warmUp } from './fanout.js';

export async function runIdle(ctx: Ctx): Promise<void> {
  const sockets = num(ctx, 'sockets');
  const roomCount = num(ctx, 'rooms');
  const settleMs = num(ctx, 'settle') * 1000;
  const b = await backend(ctx);
  log(`seeding ${sockets} users in ${roomCount} rooms`);
  const users = await seedUsers(b.db, sockets);
  const rooms = Array.from({ length: roomCount }, (_, i) => ({
    id: roomId(i + 1),
    members: users.filter((_, u) => u % roomCount === i),
  }));
  await seedRooms(b.db, rooms);
  const tokens = await tokensFor(users, JWT_SECRET);
  await b.db.release();
  const server = await startServer({ name: 'server', serverDir: ctx.serverDir, env: b.serverEnv() });
  const gens = await Generators.start(num(ctx, 'loadgens'));
  const r = ctx.report;

  await sleep(settleMs);
  recordLoad(ctx, 'idle server');
  const before = rssKb(server.pid);
  const clients: ClientSpec[] = users.map((_, u) => {
    const room = rooms[u % roomCount]!.id;
    return { url: server.wsUrl, token: tokens[u]!, subs: [{ room, query: MESSAGE_SUBSCRIPTION, variables: { r: room } }] };
  });
  await connectAll(ctx, gens, clients, 'idle server');
  const acked = rssKb(server.pid);
  await warmUp(
    ctx,
    gens,
    server.url,
    rooms.map((room) => ({ room: room.id, token: tokens[users.indexOf(room.members[0]!)]! })),
    'idle server',
  );
  log(`idle server: settling ${settleMs / 1000} s`);
  await sleep(settleMs);
  const after = rssKb(server.pid);
  const gensRss = Object.fromEntries(Object.entries(gens.pids()).map(([n, pid]) => [n, rssKb(pid)]));
  await gens.all('closeAll', () => ({}), 60_000);
  const perSocket = (after - before) / sockets;
  r.set('server', 'figures', {
    sockets,
    rooms: roomCount,
    rssBeforeKB: before,
    rssAckedKB: acked,
    rssAfterKB: after,
    perSocketKB: perSocket,
    generatorsRssKB: gensRss,
  });
  r.row(
    'server',
    'RSS before → all acked → all live, settled',
    `${fmtNum(before / 1024, 1)} → ${fmtNum(acked / 1024, 1)} → ${fmtNum(after / 1024, 1)} MB`,
  );
  r.row('server', 'RSS per subscribed socket', `${fmtNum(perSocket, 1)} KB (${fmtInt(sockets)} sockets, ${roomCount} rooms)`);

  const raw = await startChild('raw-server', 'raw-server.ts');
  const { port } = await raw.call('listen', {}, 10_000);
  await sleep(settleMs);
  recordLoad(ctx, 'idle raw ws');
  const rawBefore = rssKb(raw.pid);
  await connectAll(
    ctx,
    gens,
    users.map(() => ({
      url: `ws://127.0.0.1:${port}/graphql`,
      token: 'raw',
      subs: [{ room: 'raw', query: MESSAGE_SUBSCRIPTION, variables: { r: 'raw' } }],
    })),
    'idle raw ws',
  );
  for (let i = 0; (await raw.call('stats', {}, 10_000)).subs < sockets; i++) {
    if (i > 100) throw new Error('raw ws: subscriptions did not arrive');
    await sleep(100);
  }
  await sleep(settleMs);
  const rawAfter = rssKb(raw.pid);
  await gens.all('closeAll', () => ({}), 60_000);
  await raw.stop();
  const rawPerSocket = (rawAfter - rawBefore) / sockets;
  r.set('raw ws', 'figures', { sockets, rssBeforeKB: rawBefore, rssAfterKB: rawAfter, perSocketKB: rawPerSocket });
  r.row('raw ws', 'RSS before → after', `${fmtNum(rawBefore / 1024, 1)} → ${fmtNum(rawAfter / 1024, 1)} MB`);
  r.row('raw ws', 'RSS per socket', `${fmtNum(rawPerSocket, 1)} KB`);
  const q = ratio(perSocket, rawPerSocket);
  r.set('ratio', 'serverToRaw', q);
  r.row('ratio', 'server ÷ raw ws, RSS per socket', `${fmtNum(q, 2)}×`);
}

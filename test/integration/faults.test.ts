import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { codes, gql, gqlOk, sleep, Subscription, trackedClients } from '../support/client.js';
import { seeder } from '../support/seed.js';
import type { App } from '../support/server.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }';

// Real Postgres sessions to kill: only with TEST_DATABASE_URL.
describe.runIf(backendNames().includes('services'))('Postgres sessions terminated under load [services]', () => {
  let backend: Backend;
  let app: App;
  let admin: postgres.Sql;
  beforeAll(async () => {
    backend = await createBackend('services');
    app = await backend.startApp();
    admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.end({ timeout: 2 });
    await backend?.dispose();
  });

  it('keeps the process alive and answering, with seq still gapless, while its sessions are killed', async () => {
    const seed = seeder(app);
    const alice = await seed.user('alice');
    const room = await seed.room(alice);
    const dbName = new URL((backend.config.database as { url: string }).url).pathname.slice(1);

    let sending = true;
    const outcomes: string[] = [];
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; sending; i++) {
        const result = await gql(app, SEND, { i: { roomId: room.id, body: `w${w} #${i}` } }, alice.token);
        outcomes.push(result.errors ? String(codes(result)[0]) : 'ok');
      }
    });
    // Kill every session of the app's database a few times while it writes.
    for (let round = 0; round < 5; round++) {
      await sleep(150);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
    }
    await sleep(300);
    sending = false;
    await Promise.all(senders);

    // Failures, if any, are the contract's SERVICE_UNAVAILABLE, never a masked internal error.
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'SERVICE_UNAVAILABLE').length).toBeGreaterThan(0); // the kills did land

    // The process lives on and answers; what committed is 1..n with no gap.
    let after = null;
    for (let i = 0; i < 20 && !after; i++) {
      const retry = await gql(app, SEND, { i: { roomId: room.id, body: 'after the storm' } }, alice.token);
      after = retry.data?.sendMessage ?? null;
      if (!after) await sleep(200);
    }
    expect(after).not.toBeNull();
    const history = await gqlOk(app, 'query($r: ID!) { messages(roomId: $r, last: 200) { edges { node { seq } } } }', { r: room.id }, alice.token);
    const seqs = history.messages.edges.map((e: { node: { seq: number } }) => e.node.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
    expect(seqs.at(-1)).toBe(after.seq);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});

describe.runIf(backendNames().includes('services'))('Redis lost by a subscriber\'s instance [services]', () => {
  let backend: Backend;
  const client = trackedClients();
  beforeAll(async () => {
    backend = await createBackend('services');
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('still delivers every message, in seq order, while its Redis is cut and after it returns, and stops cleanly during an outage', async () => {
    const redis = TcpProxy.forUrl(backend.config.redis!.url);
    await redis.start();
    const sender = await backend.startApp();
    const cutOff = await backend.startApp({ redis: { url: redis.rewrite(backend.config.redis!.url) } });
    const seed = seeder(sender);
    const { alice, bob, room } = await seed.roomWithTwoMembers();
    const live = new Subscription(client(cutOff, bob.token), 'subscription($r: ID!) { messageAdded(roomId: $r) { seq } }', { r: room.id });
    await sleep(300);
    await seed.send(alice, room, 'before');
    await live.next(1);

    await redis.cut(); // its pub/sub connection drops; the announcements of these never reach it
    for (let i = 0; i < 10; i++) await seed.send(alice, room, `during ${i}`);
    await live.next(11); // read from the database by the feed's poll
    await redis.restore();
    for (let i = 0; i < 10; i++) await seed.send(alice, room, `after ${i}`);
    await live.next(21);
    await sleep(300);
    expect(live.values.map((v) => v.messageAdded.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    // Shutdown must not wait for Redis to come back (QUIT would): a hang fails this test by its timeout.
    await redis.cut();
    await cutOff.stop();
    await live.settled();
  });
});

import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { codes, eventually, gql, sleep, Subscription, trackedClients } from '../support/client.js';
import { messageProbe } from '../support/probes.js';
import { seeder } from '../support/seed.js';
import { createLogger, createRedisBus, openRedis, topics, type App } from '../support/server.js';
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
    let progressed = () => {};
    /** Resolves once the senders have seen `count` more outcomes, whatever they were. */
    const moreOutcomes = (count: number) => {
      const target = outcomes.length + count;
      return new Promise<void>((resolve) => {
        progressed = () => outcomes.length >= target && resolve();
      });
    };
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; sending; i++) {
        const result = await gql(app, SEND, { i: { roomId: room.id, body: `w${w} #${i}` } }, alice.token);
        outcomes.push(result.errors ? String(codes(result)[0]) : 'ok');
        progressed();
      }
    });
    // Kill every session of the app's database a few times while it writes:
    // each time after every sender has had about one more answer.
    for (let round = 0; round < 5; round++) {
      await moreOutcomes(8);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
    }
    await moreOutcomes(16); // and they go on writing after the storm
    sending = false;
    await Promise.all(senders);

    // Failures, if any, are the contract's SERVICE_UNAVAILABLE, never a masked internal error.
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'SERVICE_UNAVAILABLE').length).toBeGreaterThan(0); // the kills did land

    // The process lives on and answers; what committed is 1..n with no gap.
    // Retried while the pool reconnects: nothing announces that it has.
    const after = await eventually(
      async () =>
        (await gql(app, SEND, { i: { roomId: room.id, body: 'after the storm' } }, alice.token)).data?.sendMessage ?? null,
      'a send to succeed after the storm',
      5_000,
      200,
    );
    expect(after).not.toBeNull();
    // The read may meet a pooled session the last round killed: SERVICE_UNAVAILABLE, "try again", as the contract says.
    const history = await eventually(
      async () =>
        (
          await gql(
            app,
            'query($r: ID!) { messages(roomId: $r, last: 200) { edges { node { seq } } } }',
            { r: room.id },
            alice.token,
          )
        ).data?.messages ?? null,
      'the history to be read after the storm',
      5_000,
      200,
    );
    const seqs = history.edges.map((e: { node: { seq: number } }) => e.node.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
    expect(seqs.at(-1)).toBe(after.seq);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});

describe.runIf(backendNames().includes('services'))("Redis lost by a subscriber's instance [services]", () => {
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
    const live = new Subscription(
      client(cutOff, bob.token),
      'subscription($r: ID!) { messageAdded(roomId: $r) { id seq } }',
      { r: room.id },
      messageProbe(sender, bob, room),
    );
    const probes = await live.live(); // the probes took seqs 1..probes
    await seed.send(alice, room, 'before');
    await live.next(1);

    await redis.cut(); // its pub/sub connection drops; the announcements of these never reach it
    for (let i = 0; i < 10; i++) await seed.send(alice, room, `during ${i}`);
    await live.next(11); // read from the database by the feed's poll
    await redis.restore();
    for (let i = 0; i < 10; i++) await seed.send(alice, room, `after ${i}`);
    await live.next(21);
    await live.flush(); // a later message has arrived: nothing before it is still on its way
    expect(live.values.map((v) => v.messageAdded.seq)).toEqual(Array.from({ length: 21 }, (_, i) => probes + i + 1));
    // Shutdown must not wait for Redis to come back (QUIT would): a hang fails this test by its timeout.
    await redis.cut();
    await cutOff.stop();
    await live.settled();
  });

  it('stops during an outage although a room subscription began after Redis was lost and never got its SUBSCRIBE answered', async () => {
    const redis = TcpProxy.forUrl(backend.config.redis!.url);
    await redis.start();
    const sender = await backend.startApp();
    const cutOff = await backend.startApp({ redis: { url: redis.rewrite(backend.config.redis!.url) } });
    const { alice, room } = await seeder(sender).roomWithTwoMembers();
    await redis.cut();
    const waiting = new Subscription(client(cutOff, alice.token), 'subscription($r: ID!) { messageAdded(roomId: $r) { seq } }', {
      r: room.id,
    });
    // Nothing observable tells when the room's feed has asked Redis (its SUBSCRIBE waits in ioredis's queue).
    await sleep(500);
    // stop() once waited for that SUBSCRIBE, forever: a hang fails this test by its timeout.
    await cutOff.stop();
    await waiting.settled();
  }, 20_000);

  it('fails a room subscription still waiting for Redis when the instance stops, with nothing left unhandled', async () => {
    const redis = TcpProxy.forUrl(backend.config.redis!.url);
    await redis.start();
    const logger = createLogger('silent');
    const connections = await openRedis({ url: redis.rewrite(backend.config.redis!.url), logger });
    const bus = createRedisBus({ redis: connections, prefix: `${backend.config.redisPrefix}bus:`, logger });
    await redis.cut(); // the SUBSCRIBE below waits in ioredis's queue for a connection
    const subscribed = bus.subscribe(topics.room(randomUUID()), () => {});
    // Awaited from now on: the SUBSCRIBE may fail while close() is still under way.
    const failed = expect(subscribed).rejects.toThrow();
    await connections.close(); // shutdown drops the queue: the SUBSCRIBE fails
    await failed;
    // An unhandled rejection from the pub/sub library would fail this file's run.
    await new Promise((resolve) => setImmediate(resolve));
  });
});

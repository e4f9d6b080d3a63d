import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { codes, eventually, gql, sleep, Subscription, trackedClients } from '../support/client.js';
import { scrape, value } from '../support/metrics.js';
import { messageProbe } from '../support/probes.js';
import { pipelined, RawSocket, UpgradeRefused } from '../support/raw-socket.js';
import { seeder, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const MESSAGE_ADDED = 'subscription($roomId: ID!) { messageAdded(roomId: $roomId) { id seq } }';
const LIVE = 'chat_subscriptions_active{field="messageAdded",transport="ws"}';
const subscribeTo = (id: string, roomId: string) => ({
  id,
  type: 'subscribe',
  payload: { query: MESSAGE_ADDED, variables: { roomId } },
});
const initWith = (user: TestUser) => ({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } });

/** Whether an upgrade with these headers is admitted: the socket (kept open), or the refusal with its status and headers. */
async function upgrade(app: App, headers: Record<string, string> = {}): Promise<RawSocket | UpgradeRefused> {
  try {
    return await RawSocket.open(app, headers);
  } catch (error) {
    if (error instanceof UpgradeRefused) return error;
    throw error;
  }
}
const statusOf = (outcome: RawSocket | UpgradeRefused) => (outcome instanceof UpgradeRefused ? outcome.status : 101);

forEachBackend('WebSocket lifecycle', (s) => {
  const tracked = trackedClients();

  it('closes a socket with 4403 when its token expires', async () => {
    const shortLived = await s.backend.startApp({ jwt: { ...s.backend.config.jwt, ttlSeconds: 2 } });
    const seed = seeder(shortLived);
    const alice = await seed.user('alice');
    const room = await seed.room(alice);
    let closeCode = 0;
    const client = tracked(shortLived, alice.token, { onClose: (code) => (closeCode = code) });
    const sub = new Subscription(client, MESSAGE_ADDED, { roomId: room.id }, messageProbe(shortLived, alice, room));
    await sub.live();
    expect(closeCode).toBe(0); // connected, delivering and open while the token is valid
    await sub.until(() => closeCode !== 0, 6000, 'the expiry close');
    expect(closeCode).toBe(4403);
  });

  it('runs queries and mutations over the socket too, with the socket viewer', async () => {
    const alice = await s.seed.user('alice');
    const client = tracked(s.a, alice.token);
    const query = new Subscription(client, '{ me { id username } }');
    await query.next(1);
    expect(query.values[0]).toEqual({ me: { id: alice.id, username: alice.username } });
  });

  // In-process pub/sub has no channels to count.
  if (s.name === 'services') {
    it('leaves no Redis channel subscribed after many subscribe/complete cycles', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const other = await s.seed.room(alice);
      await s.seed.invite(alice, other, bob);
      const client = tracked(s.b, bob.token);
      const redis = new Redis(s.backend.config.redis!.url);
      const channels = async () => (await redis.pubsub('CHANNELS', `${s.backend.config.redisPrefix}room:*`)) as string[];
      try {
        const open = new Subscription(client, MESSAGE_ADDED, { roomId: room.id }, messageProbe(s.a, bob, room));
        await open.live(); // delivering, so its room's channel is subscribed
        expect(await channels()).toEqual([`${s.backend.config.redisPrefix}room:${room.id}`]);
        open.dispose();
        for (let round = 0; round < 20; round++) {
          const subs = Array.from(
            { length: 10 },
            (_, i) => new Subscription(client, MESSAGE_ADDED, { roomId: i % 2 ? room.id : other.id }),
          );
          await sleep(round % 3 === 0 ? 50 : 0); // completes at varied points of subscribing: the races under test
          for (const sub of subs) sub.dispose();
        }
        // Unsubscribing follows completion asynchronously, and Redis tells no one: poll it.
        let left: string[] = [];
        await eventually(async () => (left = await channels()).length === 0, 'every room channel unsubscribed', 3_000, 100).catch(
          () => {
            // Still some after 3 s: the expect names them.
          },
        );
        expect(left).toEqual([]);
      } finally {
        redis.disconnect();
      }
    });
  }

  describe('protocol edges', () => {
    it('subscribe, complete and subscribe again of each id back to back: one subscription per id, counted once against the cap and the gauge, none left after close', async () => {
      const app = await s.backend.startApp({ maxSubscriptionsPerSocket: 10 });
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const baseline = value(await scrape(app), LIVE);
      const socket = await RawSocket.acknowledged(app, bob.token);
      const ids = Array.from({ length: 15 }, (_, i) => `op-${i}`);
      for (const id of ids) {
        socket.send(subscribeTo(id, room.id));
        socket.send({ id, type: 'complete' });
        socket.send(subscribeTo(id, room.id));
      }
      // The first subscribe of each id ends unseen; of the second ones, ten fit under the cap and five are refused.
      const refused = new Set<string>();
      while (refused.size < 5) {
        const message = await socket.next();
        expect(message).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
        refused.add(message.id);
      }
      const seed = seeder(app);
      const sent = [await seed.send(alice, room, 'one'), await seed.send(alice, room, 'two')];
      // Each live id gets both messages once; a subscription left over under an id would send them a second time.
      const got = new Map<string, string[]>();
      while ([...got.values()].filter((seen) => seen.includes(sent[1]!.id)).length < 10) {
        const message = await socket.next();
        expect(message.type).toBe('next');
        got.set(message.id, [...(got.get(message.id) ?? []), message.payload.data.messageAdded.id]);
      }
      expect(new Set([...got.keys(), ...refused])).toEqual(new Set(ids));
      for (const seen of got.values()) expect(seen).toEqual(sent.map((m) => m.id));
      expect(value(await scrape(app), LIVE) - baseline).toBe(10);
      socket.close();
      await socket.closed;
      await eventually(async () => value(await scrape(app), LIVE) === baseline, 'the live gauge back at its baseline');
    });

    it('a duplicate id of 200 bytes closes the socket with 4409 and a reason within 123 bytes, and frees its slot', async () => {
      const app = await s.backend.startApp({ maxSocketsPerUser: 1 });
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const socket = await RawSocket.acknowledged(app, alice.token);
      const id = '🙂'.repeat(50); // 200 bytes of UTF-8, four to a character: a cut inside one would not decode
      socket.send(subscribeTo(id, room.id));
      socket.send(subscribeTo(id, room.id));
      const { code, reason } = await socket.closed;
      expect(code).toBe(4409);
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
      expect(reason).toMatch(/^Subscriber for (🙂)+… already exists$/u);
      // The user's only slot is free again once the server has seen the close (no client event tells when).
      const next = await eventually(
        async () => RawSocket.acknowledged(app, alice.token).catch(() => null),
        'a socket acknowledged in the freed slot',
      );
      next.close();
    });

    it('a subscribe sent before the ack is closed 4401', async () => {
      const alice = await s.seed.user('alice');
      // Checked once over HTTP: from now on the token's check is answered from cache, without waiting for anything.
      expect(codes(await gql(s.a, '{ me { id } }', {}, alice.token))).toEqual([]);
      const subscribe = (pad: string) => ({
        id: '1',
        type: 'subscribe',
        payload: { query: '{ __typename }', variables: { pad } },
      });
      // Small, both frames are read at once. Padded to the 64 KiB limit, the subscribe is read in a second piece, after
      // the token was checked and the ack queued (but not yet written): the case once served.
      const padded = 'x'.repeat(64 * 1024 - JSON.stringify(subscribe('')).length);
      for (const pad of ['', padded, '', padded, '', padded]) {
        const { messages, closed } = await pipelined(s.a, [initWith(alice), subscribe(pad)]);
        expect(closed?.code).toBe(4401);
        expect(messages.filter((m) => m.type !== 'connection_ack')).toEqual([]);
      }
    });

    it('sockets that never send connection_init are capped per IP', async () => {
      const app = await s.backend.startApp({ maxPendingSocketsPerIp: 3, trustProxy: 1 });
      const alice = await s.seed.user('alice');
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      const silent = [
        await upgrade(app, from('10.0.0.1')),
        await upgrade(app, from('10.0.0.1')),
        await upgrade(app, from('10.0.0.1')),
      ];
      expect(silent.map(statusOf)).toEqual([101, 101, 101]);
      const refused = await upgrade(app, from('10.0.0.1'));
      expect(statusOf(refused)).toBe(429);
      expect((refused as UpgradeRefused).headers['retry-after']).toBe('3');
      // The client IP is the limits' (TRUST_PROXY): another address has places, an entry written in front changes nothing.
      const other = await upgrade(app, from('10.0.0.2'));
      expect(statusOf(other)).toBe(101);
      expect(statusOf(await upgrade(app, from('192.0.2.7, 10.0.0.1')))).toBe(429);
      expect(value(await scrape(app), 'chat_rate_limited_total{limit="pending-sockets-per-ip"}')).toBe(2);

      // An acknowledged socket no longer counts.
      const [first, second] = silent as RawSocket[];
      first!.send(initWith(alice));
      expect((await first!.next()).type).toBe('connection_ack');
      const admitted = await upgrade(app, from('10.0.0.1'));
      expect(statusOf(admitted)).toBe(101);
      expect(statusOf(await upgrade(app, from('10.0.0.1')))).toBe(429);
      // Nor does a closed one, once the server has seen it close.
      second!.close();
      const again = await eventually(async () => {
        const outcome = await upgrade(app, from('10.0.0.1'));
        return outcome instanceof RawSocket ? outcome : null;
      }, 'a place freed by a closed socket');
      for (const socket of [...silent, other, admitted, again]) if (socket instanceof RawSocket) socket.close();
    });
  });
});

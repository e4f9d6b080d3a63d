import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { sleep, Subscription, trackedClients } from '../support/client.js';
import { seeder } from '../support/seed.js';
import { forEachBackend } from '../support/suite.js';

const MESSAGE_ADDED = 'subscription($roomId: ID!) { messageAdded(roomId: $roomId) { seq } }';

forEachBackend('WebSocket lifecycle', (s) => {
  const tracked = trackedClients();

  it('closes a socket with 4403 when its token expires', async () => {
    const shortLived = await s.backend.startApp({ jwt: { ...s.backend.config.jwt, ttlSeconds: 2 } });
    const seed = seeder(shortLived);
    const alice = await seed.user('alice');
    const room = await seed.room(alice);
    let closeCode = 0;
    const client = tracked(shortLived, alice.token, { onClose: (code) => (closeCode = code) });
    const sub = new Subscription(client, MESSAGE_ADDED, { roomId: room.id });
    await sleep(500);
    expect(closeCode).toBe(0); // connected and open while the token is valid
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
        const open = new Subscription(client, MESSAGE_ADDED, { roomId: room.id });
        await sleep(300);
        expect(await channels()).toEqual([`${s.backend.config.redisPrefix}room:${room.id}`]);
        open.dispose();
        for (let round = 0; round < 20; round++) {
          const subs = Array.from({ length: 10 }, (_, i) => new Subscription(client, MESSAGE_ADDED, { roomId: i % 2 ? room.id : other.id }));
          await sleep(round % 3 === 0 ? 50 : 0);
          for (const sub of subs) sub.dispose();
        }
        let left = await channels();
        for (let i = 0; i < 30 && left.length > 0; i++) {
          await sleep(100);
          left = await channels();
        }
        expect(left).toEqual([]);
      } finally {
        redis.disconnect();
      }
    });
  }
});

import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushSubscriptions } from '../../src/db/schema.js';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { codes, connected, eventually, gql, gqlOk, trackedClients } from '../support/client.js';
import { TEST_VAPID, testPush } from '../support/config.js';
import { startPushService, type PushService, type TestPushSubscription } from '../support/push-service.js';
import { seeder, type Seed, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';

/**
 * Web Push as a browser and a push service see it: subscriptions made by a
 * local push service on loopback (web-push-testing, which checks the VAPID
 * signature and decrypts each payload), registered through the API, pushes
 * read back from the service. The rules: contract/chat.graphql,
 * "Notifications for people who are not connected". The batch window is
 * short here (PUSH_BATCH_MS) and members count as gone at once
 * (PUSH_OFFLINE_MS 0); "gets none" is read once a member who does get one
 * in the same window has had theirs.
 */

const BATCH_MS = 1500;
const WAIT_MS = 15_000;
const REGISTER = 'mutation($input: PushSubscriptionInput!) { registerPushSubscription(input: $input) }';
const UNREGISTER = 'mutation($e: String!) { unregisterPushSubscription(endpoint: $e) }';
const SET_LEVEL = `mutation($r: ID!, $level: NotificationLevel!, $until: DateTime) {
  setRoomNotifications(roomId: $r, level: $level, mutedUntil: $until) { id }
}`;

interface Payload {
  roomId: string;
  roomName: string | null;
  count: number;
  preview: { author: string; body: string };
  url: string;
}

for (const backendName of backendNames()) {
  describe(`Web Push [${backendName}]`, () => {
    let backend: Backend;
    let a: App;
    let b: App;
    let seed: Seed;
    let push: PushService;
    const connect = trackedClients();

    beforeAll(async () => {
      push = await startPushService();
      backend = await createBackend(backendName);
      const overrides = { push: testPush({ batchMs: BATCH_MS, offlineMs: 0 }) };
      [a, b] = await Promise.all([backend.startApp(overrides), backend.startApp(overrides)]);
      seed = seeder(a);
    });
    afterAll(async () => {
      await backend?.dispose();
      await push?.close();
    });

    /** A browser of the user's subscribes at the push service and registers with the server. */
    const browserOf = async (user: TestUser): Promise<TestPushSubscription> => {
      const subscription = await push.subscribe(TEST_VAPID.publicKey);
      await gqlOk(a, REGISTER, { input: { endpoint: subscription.endpoint, ...subscription.keys } }, user.token);
      return subscription;
    };
    const pushesTo = async (subscription: TestPushSubscription) =>
      (await push.received(subscription)).map((text) => JSON.parse(text) as Payload);
    /** Waits until the subscription has received `count` pushes, and answers them. */
    const awaitPushes = (subscription: TestPushSubscription, count: number) =>
      eventually(
        async () => {
          const pushes = await pushesTo(subscription);
          return pushes.length >= count ? pushes : null;
        },
        `${count} push(es)`,
        WAIT_MS,
      );
    const setLevel = (user: TestUser, room: TestRoom, level: string, until: string | null = null) =>
      gqlOk(a, SET_LEVEL, { r: room.id, level, until }, user.token);
    const endpointsOf = async (user: TestUser) => {
      const { db } = await backend.database();
      const rows = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, user.id));
      return rows.map((row) => row.endpoint).sort();
    };

    it('serves the VAPID public key; with Web Push off it is null and registering is FORBIDDEN', async () => {
      expect((await gqlOk(a, '{ vapidPublicKey }')).vapidPublicKey).toBe(TEST_VAPID.publicKey);
      const off = await backend.startApp({ push: testPush({ vapid: null }) });
      const user = await seeder(off).user('off');
      expect((await gqlOk(off, '{ vapidPublicKey }')).vapidPublicKey).toBeNull();
      const input = {
        endpoint: 'https://push.example.com/x',
        p256dh: TEST_VAPID.publicKey,
        auth: Buffer.alloc(16).toString('base64url'),
      };
      expect(codes(await gql(off, REGISTER, { input }, user.token))).toEqual(['FORBIDDEN']);
      await off.stop();
    });

    it('an offline member gets one push for three messages in a window: the count and the newest preview', async () => {
      const { alice, bob, room } = await seed.roomWithTwoMembers();
      await setLevel(bob, room, 'ALL');
      const browser = await browserOf(bob);
      const long = `third ${'x'.repeat(150)}`;
      // With Redis the window is one across instances: the sends go through both.
      const via = backendName === 'services' ? [a, b, a] : [a, a, a];
      for (const [i, body] of ['first', 'second', long].entries()) {
        await gqlOk(
          via[i]!,
          'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
          { input: { roomId: room.id, body } },
          alice.token,
        );
      }
      const [first] = await awaitPushes(browser, 1);
      expect(first).toEqual({
        roomId: room.id,
        roomName: room.name,
        count: 3,
        preview: { author: alice.username, body: long.slice(0, 100) },
        url: `/#room=${room.id}`,
      });
      // The next message opens a new window: a second push, of that one alone.
      await seed.send(alice, room, 'fourth');
      const pushes = await awaitPushes(browser, 2);
      expect(pushes).toHaveLength(2);
      expect(pushes[1]).toMatchObject({ count: 1, preview: { author: alice.username, body: 'fourth' } });
    });

    it("a reply in a thread pushes its followers at level MENTIONS (the root's author), and no member who does not follow it", async () => {
      const [alice, bob, carol] = await seed.users('alice', 'bob', 'carol');
      const room = await seed.room(alice); // a GROUP room: MENTIONS by default
      await seed.join(bob, room);
      await seed.join(carol, room);
      const bobs = await browserOf(bob);
      const carols = await browserOf(carol);
      const root = await seed.send(bob, room, 'a question'); // bob follows his root
      await seed.send(alice, room, 'an answer in the thread', { threadRootId: root.id });
      const [pushed] = await awaitPushes(bobs, 1);
      expect(pushed).toMatchObject({
        roomId: room.id,
        count: 1,
        preview: { author: alice.username, body: 'an answer in the thread' },
      });
      expect(await pushesTo(carols)).toEqual([]); // read once bob's, of the same window, has come
    });

    // A window is kept in Redis: the instance that opened it may die, another pushes it.
    if (backendName === 'services')
      it('an instance that dies right after the sends: another pushes the window, once, with every message counted', async () => {
        const doomed = await backend.startApp({ push: testPush({ batchMs: BATCH_MS, offlineMs: 0 }) });
        const { alice, bob, room } = await seed.roomWithTwoMembers();
        await setLevel(bob, room, 'ALL');
        const browser = await browserOf(bob);
        for (const body of ['one', 'two']) {
          await gqlOk(
            doomed,
            'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
            { input: { roomId: room.id, body } },
            alice.token,
          );
        }
        // Its timers end with it: the window it opened (or the messages it had not yet counted) are the others' to push.
        await doomed.kill();
        // Mostly one push of both; a message the dead instance had claimed but not counted comes in a later window.
        const counted = async () => (await pushesTo(browser)).reduce((sum, p) => sum + p.count, 0);
        await eventually(async () => ((await counted()) >= 2 ? true : null), 'both messages pushed', 45_000);
        const pushed = await pushesTo(browser);
        expect(pushed.every((p) => p.roomId === room.id && p.preview.author === alice.username)).toBe(true);
        expect(pushed.map((p) => p.preview.body)).toContain('two'); // the newest shows in the push that counted it
        await seed.send(alice, room, 'after'); // a later window, pushed by a living instance
        const pushes = await awaitPushes(browser, pushed.length + 1);
        expect(pushes.at(-1)).toMatchObject({ count: 1, preview: { body: 'after' } });
        expect(await counted()).toBe(3); // every message counted once: none lost, none twice
      });

    it('notifies by level: NONE, muted, and a member who blocked the author get none; MENTIONS only a mention', async () => {
      const [alice, bob, carol, dave, erin, frank] = await seed.users('alice', 'bob', 'carol', 'dave', 'erin', 'frank');
      const room = await seed.room(alice);
      for (const member of [bob, carol, dave, erin, frank]) await seed.join(member, room);
      await setLevel(bob, room, 'ALL');
      await setLevel(carol, room, 'NONE');
      await setLevel(dave, room, 'ALL', new Date(Date.now() + 3_600_000).toISOString());
      await setLevel(erin, room, 'ALL');
      await gqlOk(a, 'mutation($u: ID!) { blockUser(userId: $u) }', { u: alice.id }, erin.token);
      // frank keeps a GROUP room's default, MENTIONS.
      const [bobs, carols, daves, erins, franks] = await Promise.all([bob, carol, dave, erin, frank].map(browserOf));
      await seed.send(alice, room, 'to everyone');
      await seed.send(alice, room, 'to frank', { mentions: [frank.id] });
      const [bobPush] = await awaitPushes(bobs!, 1);
      expect(bobPush).toMatchObject({ count: 2, preview: { body: 'to frank' } });
      const [frankPush] = await awaitPushes(franks!, 1);
      expect(frankPush).toMatchObject({ count: 1, preview: { author: alice.username, body: 'to frank' } });
      for (const browser of [carols, daves, erins]) expect(await pushesTo(browser!)).toEqual([]);
    });

    it('an online member (an open graphql-ws socket) gets none', async () => {
      const [alice, bob, carol] = await seed.users('alice', 'bob', 'carol');
      const room = await seed.room(alice);
      for (const member of [bob, carol]) {
        await seed.join(member, room);
        await setLevel(member, room, 'ALL');
      }
      const [bobs, carols] = await Promise.all([bob, carol].map(browserOf));
      // Embedded instances know only their own sockets (no Redis): there, bob connects to the sending one.
      const socket = connect(backendName === 'services' ? b : a, bob.token);
      const open = connected(socket);
      socket.subscribe(
        { query: 'subscription { myEvents { __typename } }' },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
      await open;
      await eventually(
        async () =>
          (
            (await gqlOk(a, 'query($q: String!) { users(query: $q) { online } }', { q: bob.username }, alice.token))
              .users as Array<{ online: boolean }>
          )[0]?.online,
        'bob online',
      );
      await seed.send(alice, room, 'while bob is here');
      await awaitPushes(carols!, 1);
      expect(await pushesTo(bobs!)).toEqual([]);
    });

    it("a push service answering 410 drops that subscription; the user's other browser still gets its push", async () => {
      const { alice, bob, room } = await seed.roomWithTwoMembers();
      await setLevel(bob, room, 'ALL');
      const gone = await browserOf(bob);
      const other = await browserOf(bob);
      expect(await endpointsOf(bob)).toEqual([gone.endpoint, other.endpoint].sort());
      await push.expire(gone);
      await seed.send(alice, room, 'hello');
      await awaitPushes(other, 1);
      expect(await eventually(async () => ((await endpointsOf(bob)).length === 1 ? endpointsOf(bob) : null), 'the drop')).toEqual(
        [other.endpoint],
      );
    });

    it('register and unregister are idempotent per endpoint, keep 10 per user (the oldest dropped), and take https only', async () => {
      const [alice, bob] = await seed.users('alice', 'bob');
      const keys = { p256dh: TEST_VAPID.publicKey, auth: Buffer.alloc(16, 7).toString('base64url') };
      const endpoint = (i: number) => `https://push.example.com/send/${alice.id}/${i}`;
      const register = (user: TestUser, e: string, more: Record<string, string> = {}) =>
        gql(a, REGISTER, { input: { endpoint: e, ...keys, ...more } }, user.token);
      expect((await register(alice, endpoint(0))).data).toEqual({ registerPushSubscription: true });
      expect((await register(alice, endpoint(0))).data).toEqual({ registerPushSubscription: true });
      expect(await endpointsOf(alice)).toEqual([endpoint(0)]);
      for (let i = 1; i <= 10; i++) await register(alice, endpoint(i));
      const eleven = Array.from({ length: 10 }, (_, i) => endpoint(i + 1)).sort();
      expect(await endpointsOf(alice)).toEqual(eleven);
      // The same browser signed in as someone else: the endpoint moves.
      await register(bob, endpoint(10));
      expect(await endpointsOf(bob)).toEqual([endpoint(10)]);
      expect(await endpointsOf(alice)).toEqual(eleven.filter((e) => e !== endpoint(10)));
      // Unregistering someone else's endpoint changes nothing; one's own, twice, removes it once.
      expect((await gqlOk(a, UNREGISTER, { e: endpoint(10) }, alice.token)).unregisterPushSubscription).toBe(true);
      expect(await endpointsOf(bob)).toEqual([endpoint(10)]);
      for (let i = 0; i < 2; i++)
        expect((await gqlOk(b, UNREGISTER, { e: endpoint(10) }, bob.token)).unregisterPushSubscription).toBe(true);
      expect(await endpointsOf(bob)).toEqual([]);
      // Push services are https; http only on loopback (allowed in tests), never elsewhere.
      expect(codes(await register(alice, 'http://push.example.com/x'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await register(alice, 'not a url'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await register(alice, endpoint(20), { p256dh: 'AAAA' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await register(alice, endpoint(20), { auth: 'short' }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(a, REGISTER, { input: { endpoint: endpoint(20), ...keys } }))).toEqual(['UNAUTHENTICATED']);
    });
  });
}

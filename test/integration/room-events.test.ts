import { describe, expect, it } from 'vitest';
import type { App } from '../support/server.js';
import { codes, gql, gqlOk, sleep, Subscription, trackedClients } from '../support/client.js';
import { seeder, type TestUser } from '../support/seed.js';
import { forEachBackend } from '../support/suite.js';

const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MemberChanged { change roomId user { id } }
    ... on TypingChanged { roomId typing user { id } }
  }
}`;
const MY_EVENTS = `subscription {
  myEvents {
    __typename
    ... on NewMessage { message { roomId seq body } }
    ... on RoomAdded { room { id kind } }
    ... on RoomRemoved { roomId }
  }
}`;
const SET_TYPING = 'mutation($r: ID!, $t: Boolean!) { setTyping(roomId: $r, typing: $t) }';

type Event = { __typename: string; change?: string; typing?: boolean; user?: { id: string } };
const events = (sub: Subscription) => sub.values.map((v) => v.roomEvents as Event);
const typingOf = (sub: Subscription) => events(sub).filter((e) => e.__typename === 'TypingChanged').map((e) => e.typing);
const memberEvents = (sub: Subscription, userId: string) =>
  events(sub)
    .filter((e) => e.__typename === 'MemberChanged' && e.user?.id === userId)
    .map((e) => e.change);

forEachBackend('Room and user event streams', (s) => {
  const connect = trackedClients();
  const client = (app: App, user: TestUser | null, onClose?: (code: number) => void) => connect(app, user?.token ?? null, { onClose });

  describe('Subscription.roomEvents', () => {
    it('tells members on the other instance who joined and who left', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const carol = await s.seed.user('carol');
      const sub = new Subscription(client(s.b, alice), ROOM_EVENTS, { r: room.id });
      await sleep(300);
      await gqlOk(s.a, 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room.id }, carol.token);
      await gqlOk(s.a, 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: room.id }, carol.token);
      await sub.until(() => memberEvents(sub, carol.id).length >= 2);
      expect(memberEvents(sub, carol.id)).toEqual(['JOINED', 'LEFT']);
      expect(events(sub).find((e) => e.user?.id === carol.id)).toMatchObject({ roomId: room.id });
    });

    it('refuses a non-member with FORBIDDEN and an unknown room with NOT_FOUND', async () => {
      const { room } = await s.seed.roomWithTwoMembers();
      const stranger = await s.seed.user('stranger');
      const refused = new Subscription(client(s.a, stranger), ROOM_EVENTS, { r: room.id });
      await refused.settled();
      expect(refused.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      const missing = new Subscription(client(s.a, stranger), ROOM_EVENTS, { r: '00000000-0000-4000-8000-000000000000' });
      await missing.settled();
      expect(missing.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    });

    it("ends the leaver's own stream at once: not even their LEFT event reaches them", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const bobs = new Subscription(client(s.b, bob), ROOM_EVENTS, { r: room.id });
      await sleep(300);
      await gqlOk(s.a, 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: room.id }, bob.token);
      await bobs.settled();
      await gqlOk(s.a, SET_TYPING, { r: room.id, t: true }, alice.token);
      await sleep(300);
      expect(bobs.completed).toBe(true);
      // Only his own ONLINE (his socket opened while a member) may have come before.
      expect(events(bobs).filter((e) => !(e.change === 'ONLINE' && e.user?.id === bob.id))).toEqual([]);
    });
  });

  describe('Mutation.setTyping', () => {
    it('announces typing once, and its end, to members on the other instance', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = new Subscription(client(s.b, bob), ROOM_EVENTS, { r: room.id });
      await sleep(300);
      expect(await gqlOk(s.a, SET_TYPING, { r: room.id, t: true }, alice.token)).toEqual({ setTyping: true });
      await gqlOk(s.a, SET_TYPING, { r: room.id, t: true }, alice.token); // a repeat: no second event
      // Through the other instance too: typing state is shared through Redis (embedded mode is one process).
      if (s.name === 'services') await gqlOk(s.b, SET_TYPING, { r: room.id, t: true }, alice.token);
      await gqlOk(s.a, SET_TYPING, { r: room.id, t: false }, alice.token);
      await sub.until(() => events(sub).some((e) => e.typing === false));
      await sleep(300);
      const typing = events(sub).filter((e) => e.__typename === 'TypingChanged');
      expect(typing).toEqual([
        { __typename: 'TypingChanged', roomId: room.id, typing: true, user: { id: alice.id } },
        { __typename: 'TypingChanged', roomId: room.id, typing: false, user: { id: alice.id } },
      ]);
    });

    it('lapses without a repeat and sends typing false then', async () => {
      const quick = await s.backend.startApp({ typingTimeoutMs: 800 });
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = new Subscription(client(s.b, bob), ROOM_EVENTS, { r: room.id });
      await sleep(300);
      await gqlOk(quick, SET_TYPING, { r: room.id, t: true }, alice.token);
      await sleep(400);
      await gqlOk(quick, SET_TYPING, { r: room.id, t: true }, alice.token); // the repeat restarts the lapse
      await sleep(600); // past the first lapse, before the restarted one
      expect(typingOf(sub)).toEqual([true]);
      await sub.until(() => typingOf(sub).length >= 2, 3000, 'the lapse');
      expect(typingOf(sub)).toEqual([true, false]);
    });

    it("ends typing when the typist's socket closes", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = new Subscription(client(s.b, bob), ROOM_EVENTS, { r: room.id });
      const alices = client(s.a, alice);
      const open = new Subscription(alices, ROOM_EVENTS, { r: room.id }); // keeps her socket open
      await sleep(300);
      const typed = new Subscription(alices, SET_TYPING, { r: room.id, t: true }); // setTyping over the socket itself
      await typed.next(1);
      expect(typed.values[0]).toEqual({ setTyping: true });
      await sub.until(() => events(sub).some((e) => e.typing === true));
      await sleep(200);
      expect(typingOf(sub)).toEqual([true]); // still typing while the socket is open
      await alices.dispose();
      await sub.until(() => events(sub).some((e) => e.typing === false), 5000, 'typing false on close');
      expect(typingOf(sub)).toEqual([true, false]);
      open.dispose();
    });

    it('refuses a non-member with FORBIDDEN and an unknown room with NOT_FOUND', async () => {
      const { room } = await s.seed.roomWithTwoMembers();
      const stranger = await s.seed.user('stranger');
      expect(codes(await gql(s.a, SET_TYPING, { r: room.id, t: true }, stranger.token))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(s.a, SET_TYPING, { r: '00000000-0000-4000-8000-000000000000', t: true }, stranger.token))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(s.a, SET_TYPING, { r: room.id, t: true }))).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('presence in roomEvents', () => {
    it('announces ONLINE on the first socket and OFFLINE after the last, once per transition', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = new Subscription(client(s.b, alice), ROOM_EVENTS, { r: room.id });
      await sleep(300);
      const first = client(s.a, bob);
      const second = client(s.a, bob);
      const keep = [new Subscription(first, ROOM_EVENTS, { r: room.id }), new Subscription(second, ROOM_EVENTS, { r: room.id })];
      await sub.until(() => memberEvents(sub, bob.id).length >= 1);
      await first.dispose();
      await sleep(400);
      expect(memberEvents(sub, bob.id)).toEqual(['ONLINE']);
      await second.dispose();
      await sub.until(() => memberEvents(sub, bob.id).length >= 2);
      await sleep(300);
      expect(memberEvents(sub, bob.id)).toEqual(['ONLINE', 'OFFLINE']);
      keep.forEach((k) => k.dispose());
    });

    // One process in embedded mode: a crash there takes every instance with it.
    if (s.name === 'services') {
      it('takes the users of a killed instance offline once their claims lapse, with nobody cleaning up', async () => {
        const short = { presenceTtlMs: 1000, presenceHeartbeatMs: 200 };
        const [survivor, doomed] = await Promise.all([s.backend.startApp(short), s.backend.startApp(short)]);
        const seed = seeder(survivor);
        const [alice, bob] = await Promise.all([seed.user('alice'), seed.user('bob')]);
        const room = await seed.room(alice);
        await seed.invite(alice, room, bob);
        const sub = new Subscription(client(survivor, alice), ROOM_EVENTS, { r: room.id });
        await sleep(300);
        const bobs = new Subscription(client(doomed, bob), ROOM_EVENTS, { r: room.id });
        await sub.until(() => memberEvents(sub, bob.id).includes('ONLINE'));
        expect((await gqlOk(survivor, 'query($id: ID!) { user(id: $id) { online } }', { id: bob.id }, alice.token)).user.online).toBe(true);
        await doomed.kill();
        await sub.until(() => memberEvents(sub, bob.id).includes('OFFLINE'), 8000, 'OFFLINE after the lapse');
        expect(memberEvents(sub, bob.id)).toEqual(['ONLINE', 'OFFLINE']);
        expect((await gqlOk(survivor, 'query($id: ID!) { user(id: $id) { online } }', { id: bob.id }, alice.token)).user.online).toBe(false);
        bobs.dispose();
      });
    }
  });

  describe('Subscription.myEvents', () => {
    const my = (sub: Subscription) => sub.values.map((v) => v.myEvents);

    it('delivers NewMessage from every room of the viewer, their own messages included', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const other = await s.seed.room(bob);
      await s.seed.invite(bob, other, alice);
      const sub = new Subscription(client(s.b, alice), MY_EVENTS);
      await sleep(400);
      await s.seed.send(bob, room, 'one');
      await s.seed.send(alice, other, 'two');
      await s.seed.send(bob, room, 'three');
      await sub.next(3);
      expect(my(sub).map((e) => [e.message.roomId, e.message.body]).sort()).toEqual(
        [
          [room.id, 'one'],
          [other.id, 'two'],
          [room.id, 'three'],
        ].sort(),
      );
      const inRoom = my(sub).filter((e) => e.message.roomId === room.id).map((e) => e.message.seq);
      expect(inRoom).toEqual([...inRoom].sort((x, y) => x - y));
    });

    it('follows a room joined after subscribing, and stops at once for a room left', async () => {
      const [alice, bob] = await Promise.all([s.seed.user('alice'), s.seed.user('bob')]);
      const room = await s.seed.room(bob);
      const sub = new Subscription(client(s.b, alice), MY_EVENTS);
      await sleep(400);
      await s.seed.send(bob, room, 'before joining');
      await gqlOk(s.a, 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room.id }, alice.token);
      await s.seed.send(bob, room, 'after joining');
      await sub.next(2);
      expect(my(sub)).toEqual([
        { __typename: 'RoomAdded', room: { id: room.id, kind: 'GROUP' } },
        { __typename: 'NewMessage', message: { roomId: room.id, seq: 2, body: 'after joining' } },
      ]);
      await gqlOk(s.a, 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: room.id }, alice.token);
      await s.seed.send(bob, room, 'after leaving');
      await sub.next(3);
      await sleep(400);
      expect(my(sub).slice(2)).toEqual([{ __typename: 'RoomRemoved', roomId: room.id }]);
    });

    it('announces RoomAdded for an invitation, a new DIRECT room from either side, and a created room', async () => {
      const [alice, bob, carol] = await Promise.all([s.seed.user('alice'), s.seed.user('bob'), s.seed.user('carol')]);
      const sub = new Subscription(client(s.b, alice), MY_EVENTS);
      await sleep(400);
      const group = await s.seed.room(bob, 'PRIVATE');
      await s.seed.invite(bob, group, alice);
      const direct = await gqlOk(s.a, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }', { u: alice.id }, carol.token);
      const own = await s.seed.room(alice);
      await sub.next(3);
      await gqlOk(s.a, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }', { u: carol.id }, alice.token); // exists: nothing new
      await sleep(400);
      expect(my(sub)).toEqual([
        { __typename: 'RoomAdded', room: { id: group.id, kind: 'GROUP' } },
        { __typename: 'RoomAdded', room: { id: direct.openDirectRoom.id, kind: 'DIRECT' } },
        { __typename: 'RoomAdded', room: { id: own.id, kind: 'GROUP' } },
      ]);
    });

    it('requires a signed-in socket', async () => {
      let code = 0;
      const sub = new Subscription(client(s.a, null, (c) => (code = c)), MY_EVENTS);
      await sub.until(() => code !== 0, 5000, 'the close');
      expect(code).toBe(4403);
    });
  });
});

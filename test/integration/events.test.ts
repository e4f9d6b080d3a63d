import { describe, expect, it } from 'vitest';
import { gqlOk, Subscription, trackedClients } from '../support/client.js';
import { myEventsProbe, ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MemberChanged { change roomId user { id } }
    ... on TypingChanged { roomId typing user { id } }
    ${ROOM_EVENTS_PROBE_FIELDS}
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
const memberEvents = (sub: Subscription, userId: string) =>
  events(sub)
    .filter((e) => e.__typename === 'MemberChanged' && e.user?.id === userId)
    .map((e) => e.change);

forEachBackend('Room and user event streams', (s) => {
  const connect = trackedClients();
  const client = (app: App, user: TestUser | null, onClose?: (code: number) => void) =>
    connect(app, user?.token ?? null, { onClose });
  /** `member`'s roomEvents on `app`, probed by their own typing through A, as the tests act. */
  const roomEventsOf = (app: App, member: TestUser, room: TestRoom) =>
    new Subscription(client(app, member), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, member, room));
  /** `viewer`'s myEvents on `app`, probed by rooms they create through A. */
  const myEventsOf = (app: App, viewer: TestUser) =>
    new Subscription(client(app, viewer), MY_EVENTS, {}, myEventsProbe(s.a, viewer));

  describe('Subscription.roomEvents', () => {
    it('tells members on the other instance who joined and who left', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const carol = await s.seed.user('carol');
      const sub = roomEventsOf(s.b, alice, room);
      await sub.live();
      await s.seed.join(carol, room);
      await s.seed.leave(carol, room);
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
      const missing = new Subscription(client(s.a, stranger), ROOM_EVENTS, { r: MISSING_ID });
      await missing.settled();
      expect(missing.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    });

    it("ends the leaver's own stream at once: not even their LEFT event reaches them", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const bobs = roomEventsOf(s.b, bob, room);
      await bobs.live();
      await s.seed.leave(bob, room);
      await bobs.settled();
      await gqlOk(s.a, SET_TYPING, { r: room.id, t: true }, alice.token);
      // Complete: the client takes nothing more for this subscription, so what it got came before.
      expect(bobs.completed).toBe(true);
      // Only his own ONLINE (his socket opened while a member) may have come before.
      expect(events(bobs).filter((e) => !(e.change === 'ONLINE' && e.user?.id === bob.id))).toEqual([]);
    });
  });

  describe('Subscription.myEvents', () => {
    const my = (sub: Subscription) => sub.values.map((v) => v.myEvents);

    it('delivers NewMessage from every room of the viewer, their own messages included', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const other = await s.seed.room(bob);
      await s.seed.invite(bob, other, alice);
      const sub = myEventsOf(s.b, alice);
      await sub.live();
      await s.seed.send(bob, room, 'one');
      await s.seed.send(alice, other, 'two');
      await s.seed.send(bob, room, 'three');
      await sub.next(3);
      expect(
        my(sub)
          .map((e) => [e.message.roomId, e.message.body])
          .sort(),
      ).toEqual(
        [
          [room.id, 'one'],
          [other.id, 'two'],
          [room.id, 'three'],
        ].sort(),
      );
      const inRoom = my(sub)
        .filter((e) => e.message.roomId === room.id)
        .map((e) => e.message.seq);
      expect(inRoom).toEqual([...inRoom].sort((x, y) => x - y));
    });

    it('follows a room joined after subscribing, and stops at once for a room left', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const room = await s.seed.room(bob);
      const sub = myEventsOf(s.b, alice);
      await sub.live();
      await s.seed.send(bob, room, 'before joining');
      await s.seed.join(alice, room);
      await s.seed.send(bob, room, 'after joining');
      await sub.next(2);
      expect(my(sub)).toEqual([
        { __typename: 'RoomAdded', room: { id: room.id, kind: 'GROUP' } },
        { __typename: 'NewMessage', message: { roomId: room.id, seq: 2, body: 'after joining' } },
      ]);
      await s.seed.leave(alice, room);
      await s.seed.send(bob, room, 'after leaving');
      await sub.next(3);
      await sub.flush(); // a later event has arrived: 'after leaving' is not still on its way
      expect(my(sub).slice(2)).toEqual([{ __typename: 'RoomRemoved', roomId: room.id }]);
    });

    it('announces RoomAdded for an invitation, a new DIRECT room from either side, and a created room', async () => {
      const [alice, bob, carol] = await s.seed.users('alice', 'bob', 'carol');
      const sub = myEventsOf(s.b, alice);
      await sub.live();
      const group = await s.seed.room(bob, 'PRIVATE');
      await s.seed.invite(bob, group, alice);
      const direct = await gqlOk(s.a, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }', { u: alice.id }, carol.token);
      const own = await s.seed.room(alice);
      await sub.next(3);
      await gqlOk(s.a, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }', { u: carol.id }, alice.token); // exists: nothing new
      await sub.flush(); // a later RoomAdded has arrived: none for the existing room is still on its way
      expect(my(sub)).toEqual([
        { __typename: 'RoomAdded', room: { id: group.id, kind: 'GROUP' } },
        { __typename: 'RoomAdded', room: { id: direct.openDirectRoom.id, kind: 'DIRECT' } },
        { __typename: 'RoomAdded', room: { id: own.id, kind: 'GROUP' } },
      ]);
    });

    it('requires a signed-in socket', async () => {
      let code = 0;
      const sub = new Subscription(
        client(s.a, null, (c) => (code = c)),
        MY_EVENTS,
      );
      await sub.until(() => code !== 0, 5000, 'the close');
      expect(code).toBe(4403);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const MARK_READ = 'mutation($r: ID!, $s: Int!) { markRead(roomId: $r, seq: $s) { id lastReadSeq unreadCount } }';
const ROOM = `query($id: ID!) { room(id: $id) { id lastReadSeq unreadCount members { user { id } lastReadSeq } } }`;
const MY_ROOMS = 'query { myRooms { id lastReadSeq unreadCount } }';
const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) { __typename ... on ReadReceipt { roomId seq user { id } } ${ROOM_EVENTS_PROBE_FIELDS} }
}`;

interface ReadView {
  id: string;
  lastReadSeq: number;
  unreadCount: number;
}
interface RoomView extends ReadView {
  members: Array<{ user: { id: string }; lastReadSeq: number }>;
}
interface Receipt {
  __typename: 'ReadReceipt';
  roomId: string;
  seq: number;
  user: { id: string };
}

const receipts = (sub: Subscription): Receipt[] =>
  sub.values.map((v) => v.roomEvents).filter((e): e is Receipt => e.__typename === 'ReadReceipt');

forEachBackend('Read state', (s) => {
  const connect = trackedClients();
  const client = (app: App, user: TestUser) => connect(app, user.token);
  /** `member`'s roomEvents on `app`, probed by their own typing (and edits) through A, where the receipts are marked. */
  const watch = (app: App, member: TestUser, room: TestRoom) =>
    new Subscription(client(app, member), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, member, room));

  const markRead = async (viewer: TestUser, room: TestRoom, seq: number, app = s.a): Promise<ReadView> =>
    (await gqlOk(app, MARK_READ, { r: room.id, s: seq }, viewer.token)).markRead;
  const roomAs = async (viewer: TestUser, room: TestRoom, app = s.a): Promise<RoomView> =>
    (await gqlOk(app, ROOM, { id: room.id }, viewer.token)).room;
  const stateOf = async (viewer: TestUser, room: TestRoom, app = s.a) => {
    const { lastReadSeq, unreadCount } = await roomAs(viewer, room, app);
    return { lastReadSeq, unreadCount };
  };

  describe('Mutation.markRead', () => {
    it("moves the viewer's read position and returns the room with the viewer's read state", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 4);
      expect(await markRead(alice, room, 3)).toEqual({ id: room.id, lastReadSeq: 3, unreadCount: 1 });
      expect(await stateOf(alice, room, s.b)).toEqual({ lastReadSeq: 3, unreadCount: 1 });
      expect(await markRead(alice, room, 4)).toEqual({ id: room.id, lastReadSeq: 4, unreadCount: 0 });
      // bob's own position is his: his sends marked the room read up to 4 for him.
      expect(await stateOf(bob, room)).toEqual({ lastReadSeq: 4, unreadCount: 0 });
    });

    it('never moves backwards', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 5);
      expect(await markRead(alice, room, 4)).toMatchObject({ lastReadSeq: 4, unreadCount: 1 });
      expect(await markRead(alice, room, 2)).toMatchObject({ lastReadSeq: 4, unreadCount: 1 });
      expect(await markRead(alice, room, 0)).toMatchObject({ lastReadSeq: 4, unreadCount: 1 });
      expect(await markRead(alice, room, 4)).toMatchObject({ lastReadSeq: 4, unreadCount: 1 });
      expect(await stateOf(alice, room)).toEqual({ lastReadSeq: 4, unreadCount: 1 });
    });

    it('counts a seq past the newest message as the newest, so later messages are still unread', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 3);
      expect(await markRead(alice, room, 1000)).toEqual({ id: room.id, lastReadSeq: 3, unreadCount: 0 });
      await s.seed.sendMany(bob, room, 2);
      expect(await stateOf(alice, room)).toEqual({ lastReadSeq: 3, unreadCount: 2 });
      expect(await markRead(alice, room, 2_147_483_647)).toEqual({ id: room.id, lastReadSeq: 5, unreadCount: 0 });
    });

    it('leaves lastReadSeq at 0 in a room without messages', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      expect(await markRead(alice, room, 7)).toEqual({ id: room.id, lastReadSeq: 0, unreadCount: 0 });
    });

    it('refuses a non-member with FORBIDDEN, also for a PUBLIC room, and changes nothing', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 2);
      const stranger = await s.seed.user('stranger');
      const result = await gql(s.a, MARK_READ, { r: room.id, s: 2 }, stranger.token);
      expect(codes(result)).toEqual(['FORBIDDEN']);
      expect(result.data ?? null).toBeNull();
      expect(await stateOf(stranger, room)).toEqual({ lastReadSeq: 0, unreadCount: 0 });
      expect(await stateOf(alice, room)).toEqual({ lastReadSeq: 0, unreadCount: 2 });
    });

    it('refuses a member who left with FORBIDDEN', async () => {
      const { bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.leave(bob, room);
      expect(codes(await gql(s.a, MARK_READ, { r: room.id, s: 0 }, bob.token))).toEqual(['FORBIDDEN']);
    });

    it('refuses an unknown room and an id that is not a uuid with NOT_FOUND', async () => {
      const alice = await s.seed.user('alice');
      expect(codes(await gql(s.a, MARK_READ, { r: MISSING_ID, s: 1 }, alice.token))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(s.a, MARK_READ, { r: 'not-a-room', s: 1 }, alice.token))).toEqual(['NOT_FOUND']);
    });

    it('refuses a negative seq with BAD_USER_INPUT', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 1);
      const result = await gql(s.a, MARK_READ, { r: room.id, s: -1 }, alice.token);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.field).toBe('seq');
      expect(await stateOf(alice, room)).toEqual({ lastReadSeq: 0, unreadCount: 1 });
    });

    it('refuses a caller without a token with UNAUTHENTICATED', async () => {
      const { room } = await s.seed.roomWithTwoMembers();
      const result = await gql(s.a, MARK_READ, { r: room.id, s: 1 });
      expect(codes(result)).toEqual(['UNAUTHENTICATED']);
      expect(result.data ?? null).toBeNull();
    });
  });

  describe('Room.unreadCount and Room.lastReadSeq', () => {
    it("count only others' messages after the viewer's last read one", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(alice, room, 2); // seqs 1-2
      await s.seed.sendMany(bob, room, 3); // seqs 3-5
      expect(await stateOf(bob, room)).toEqual({ lastReadSeq: 5, unreadCount: 0 });
      expect(await stateOf(alice, room)).toEqual({ lastReadSeq: 2, unreadCount: 3 });
      expect(await markRead(alice, room, 3)).toMatchObject({ lastReadSeq: 3, unreadCount: 2 });
      expect(await markRead(alice, room, 4)).toMatchObject({ lastReadSeq: 4, unreadCount: 1 });
      await s.seed.send(bob, room, 'six'); // seq 6
      expect(await stateOf(alice, room)).toEqual({ lastReadSeq: 4, unreadCount: 2 });
      expect(await stateOf(bob, room)).toEqual({ lastReadSeq: 6, unreadCount: 0 });
    });

    it('marks the room read up to their own message for its author when they send', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 3);
      expect(await stateOf(alice, room)).toEqual({ lastReadSeq: 0, unreadCount: 3 });
      const sent = await s.seed.send(alice, room, 'my reply');
      expect(sent.seq).toBe(4);
      expect(await stateOf(alice, room)).toEqual({ lastReadSeq: 4, unreadCount: 0 });
      expect(await stateOf(bob, room)).toEqual({ lastReadSeq: 3, unreadCount: 1 });
    });

    it('are 0 for a viewer who sees a PUBLIC room without being a member', async () => {
      const { bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 2);
      const stranger = await s.seed.user('stranger');
      const view = await roomAs(stranger, room);
      expect({ lastReadSeq: view.lastReadSeq, unreadCount: view.unreadCount }).toEqual({ lastReadSeq: 0, unreadCount: 0 });
    });

    it("show each member's own position in RoomMember.lastReadSeq", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 3);
      await markRead(alice, room, 2);
      const view = await roomAs(alice, room, s.b);
      const positions = Object.fromEntries(view.members.map((m) => [m.user.id, m.lastReadSeq]));
      expect(positions).toEqual({ [alice.id]: 2, [bob.id]: 3 });
      expect(view.lastReadSeq).toBe(2);
    });

    it('give each room of myRooms its own counts', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const quiet = await s.seed.room(alice);
      const busy = await s.seed.room(alice);
      const read = await s.seed.room(alice);
      for (const room of [quiet, busy, read]) await s.seed.invite(alice, room, bob);
      await s.seed.sendMany(bob, busy, 4);
      await s.seed.sendMany(bob, read, 3);
      await markRead(alice, read, 2);
      await markRead(alice, busy, 1);
      const mine = new Map(((await gqlOk(s.b, MY_ROOMS, {}, alice.token)).myRooms as ReadView[]).map((r) => [r.id, r]));
      expect(mine.get(quiet.id)).toEqual({ id: quiet.id, lastReadSeq: 0, unreadCount: 0 });
      expect(mine.get(busy.id)).toEqual({ id: busy.id, lastReadSeq: 1, unreadCount: 3 });
      expect(mine.get(read.id)).toEqual({ id: read.id, lastReadSeq: 2, unreadCount: 1 });
      expect(mine.size).toBe(3);
      const bobs = new Map(((await gqlOk(s.a, MY_ROOMS, {}, bob.token)).myRooms as ReadView[]).map((r) => [r.id, r]));
      expect([bobs.get(quiet.id), bobs.get(busy.id), bobs.get(read.id)].map((r) => [r?.lastReadSeq, r?.unreadCount])).toEqual([
        [0, 0],
        [4, 0],
        [3, 0],
      ]);
    });
  });

  describe('ReadReceipt on Subscription.roomEvents', () => {
    it('tells a member subscribed on the other instance the new position', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 3);
      const sub = watch(s.b, bob, room);
      await sub.live(); // registered before anything is marked
      await markRead(alice, room, 2, s.a);
      await sub.until(() => receipts(sub).length >= 1);
      expect(receipts(sub)).toEqual([{ __typename: 'ReadReceipt', roomId: room.id, seq: 2, user: { id: alice.id } }]);
    });

    it('announces a seq past the newest as the newest, and nothing when the position did not move', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 3);
      await markRead(alice, room, 2);
      const sub = watch(s.b, bob, room);
      await sub.live();
      await markRead(alice, room, 1); // backwards: no move
      await markRead(alice, room, 2); // the same: no move
      await markRead(alice, room, 0);
      await markRead(alice, room, 99); // counts as 3
      await markRead(alice, room, 100); // still 3: no move
      await s.seed.send(bob, room, 'four');
      await markRead(alice, room, 4);
      await sub.until(() => receipts(sub).length >= 2);
      await sub.flush(); // a later event has arrived: no receipt is still on its way
      expect(receipts(sub).map((r) => [r.user.id, r.seq])).toEqual([
        [alice.id, 3],
        [alice.id, 4],
      ]);
    });

    it('refuses a non-member with FORBIDDEN at subscribe time', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(bob, room, 1);
      const stranger = await s.seed.user('stranger');
      const sub = new Subscription(client(s.b, stranger), ROOM_EVENTS, { r: room.id });
      await sub.settled();
      expect(sub.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      await markRead(alice, room, 1);
      // After its error the client takes nothing more for this subscription: what it got came before.
      expect(receipts(sub)).toEqual([]);
    });

    it('sends nothing more to a member after they left', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.sendMany(alice, room, 3);
      const bobs = watch(s.b, bob, room);
      await bobs.live();
      await markRead(bob, room, 1); // his own receipt, while a member
      await bobs.until(() => receipts(bobs).length >= 1);
      await s.seed.leave(bob, room);
      await bobs.settled();
      const carol = await s.seed.user('carol');
      await s.seed.join(carol, room);
      await markRead(carol, room, 3);
      // Complete: the client takes nothing more for this subscription, so what it got came before.
      expect(bobs.completed).toBe(true);
      expect(receipts(bobs).map((r) => [r.user.id, r.seq])).toEqual([[bob.id, 1]]);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, sleep } from '../support/client.js';
import { MISSING_ID, uniqueName, type TestUser } from '../support/seed.js';
import { forEachBackend } from '../support/suite.js';

const ISO_MS_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ROOM_FIELDS = `id kind visibility name createdAt
  members { user { id username } role joinedAt lastReadSeq }
  lastMessage { seq body }`;

const CREATE_ROOM = `mutation($input: CreateRoomInput!) { createRoom(input: $input) { ${ROOM_FIELDS} } }`;
const JOIN_ROOM = `mutation($r: ID!) { joinRoom(roomId: $r) { ${ROOM_FIELDS} } }`;
const LEAVE_ROOM = 'mutation($r: ID!) { leaveRoom(roomId: $r) }';
const OPEN_DIRECT = `mutation($u: ID!) { openDirectRoom(userId: $u) { ${ROOM_FIELDS} } }`;
const INVITE = `mutation($r: ID!, $u: ID!) { inviteToRoom(roomId: $r, userId: $u) { ${ROOM_FIELDS} } }`;
const ROOM = `query($id: ID!) { room(id: $id) { ${ROOM_FIELDS} } }`;
const MY_ROOMS = `query { myRooms { ${ROOM_FIELDS} } }`;
const PUBLIC_ROOMS = 'query($q: String, $first: Int) { publicRooms(query: $q, first: $first) { id kind visibility name } }';

interface MemberView {
  user: { id: string; username: string };
  role: 'OWNER' | 'MEMBER';
  joinedAt: string;
  lastReadSeq: number;
}
interface RoomView {
  id: string;
  kind: 'GROUP' | 'DIRECT';
  visibility: 'PUBLIC' | 'PRIVATE';
  name: string | null;
  createdAt: string;
  members: MemberView[];
  lastMessage: { seq: number; body: string } | null;
}

/** [userId, role] of each member, in a stable order. */
const memberRoles = (room: RoomView) =>
  room.members.map((m) => [m.user.id, m.role]).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
const rolesOf = (...pairs: Array<[TestUser, 'OWNER' | 'MEMBER']>) =>
  pairs.map(([u, role]) => [u.id, role]).sort((x, y) => String(x[0]).localeCompare(String(y[0])));

forEachBackend('Rooms', (s) => {
  const roomAs = async (viewer: TestUser, id: string, app = s.a): Promise<RoomView | null> =>
    (await gqlOk(app, ROOM, { id }, viewer.token)).room;
  const myRooms = async (viewer: TestUser, app = s.a): Promise<RoomView[]> =>
    (await gqlOk(app, MY_ROOMS, {}, viewer.token)).myRooms;
  const publicRooms = async (
    viewer: TestUser,
    q: string | null,
    first?: number,
    app = s.a,
  ): Promise<Array<Pick<RoomView, 'id' | 'kind' | 'visibility' | 'name'>>> =>
    (await gqlOk(app, PUBLIC_ROOMS, { q, first }, viewer.token)).publicRooms;
  const createRoom = async (owner: TestUser, input: Record<string, unknown>, app = s.a): Promise<RoomView> =>
    (await gqlOk(app, CREATE_ROOM, { input }, owner.token)).createRoom;

  describe('Mutation.createRoom', () => {
    it('creates a PUBLIC GROUP room by default whose only member is the creator as OWNER', async () => {
      const alice = await s.seed.user('alice');
      const name = uniqueName('room');
      const room = await createRoom(alice, { name });
      expect(room).toMatchObject({ kind: 'GROUP', visibility: 'PUBLIC', name, lastMessage: null });
      expect(room.members.map((m) => ({ user: m.user, role: m.role, lastReadSeq: m.lastReadSeq }))).toEqual([
        { user: { id: alice.id, username: alice.username }, role: 'OWNER', lastReadSeq: 0 },
      ]);
      expect(room.createdAt).toMatch(ISO_MS_UTC);
      expect(room.members[0]!.joinedAt).toMatch(ISO_MS_UTC);
      expect(Math.abs(Date.parse(room.createdAt) - Date.now())).toBeLessThan(60_000);
    });

    it('creates a PRIVATE room when asked', async () => {
      const alice = await s.seed.user('alice');
      const room = await createRoom(alice, { name: uniqueName('secret'), visibility: 'PRIVATE' });
      expect(room.kind).toBe('GROUP');
      expect(room.visibility).toBe('PRIVATE');
      expect(memberRoles(room)).toEqual(rolesOf([alice, 'OWNER']));
    });

    it('refuses an empty name with BAD_USER_INPUT', async () => {
      const alice = await s.seed.user('alice');
      const result = await gql(s.a, CREATE_ROOM, { input: { name: '' } }, alice.token);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.data ?? null).toBeNull();
    });

    it('refuses a name of 101 characters with BAD_USER_INPUT, counting code points', async () => {
      const alice = await s.seed.user('alice');
      const ascii = await gql(s.a, CREATE_ROOM, { input: { name: 'x'.repeat(101) } }, alice.token);
      expect(codes(ascii)).toEqual(['BAD_USER_INPUT']);
      const emoji = await gql(s.a, CREATE_ROOM, { input: { name: '😀'.repeat(101) } }, alice.token);
      expect(codes(emoji)).toEqual(['BAD_USER_INPUT']);
      expect(await myRooms(alice)).toEqual([]);
    });

    it('accepts a name of exactly 100 characters, also 100 emoji (200 UTF-16 units)', async () => {
      const alice = await s.seed.user('alice');
      const ascii = await createRoom(alice, { name: 'y'.repeat(100) });
      expect(ascii.name).toBe('y'.repeat(100));
      const emojiName = '😀'.repeat(100);
      expect(emojiName.length).toBe(200);
      const emoji = await createRoom(alice, { name: emojiName });
      expect(emoji.name).toBe(emojiName);
      expect((await roomAs(alice, emoji.id))!.name).toBe(emojiName);
    });

    it('refuses a caller without a token with UNAUTHENTICATED', async () => {
      const result = await gql(s.a, CREATE_ROOM, { input: { name: uniqueName('anon') } });
      expect(codes(result)).toEqual(['UNAUTHENTICATED']);
      expect(result.data ?? null).toBeNull();
    });

    it('makes a room created through instance A visible through instance B', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const name = uniqueName('across');
      const created = await createRoom(alice, { name }, s.a);
      const onB = await roomAs(alice, created.id, s.b);
      expect(onB).toEqual(created);
      expect((await myRooms(alice, s.b)).map((r) => r.id)).toEqual([created.id]);
      expect((await publicRooms(bob, name, undefined, s.b)).map((r) => r.id)).toEqual([created.id]);
      const joined = (await gqlOk(s.b, JOIN_ROOM, { r: created.id }, bob.token)).joinRoom as RoomView;
      expect(memberRoles(joined)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
    });
  });

  describe('Mutation.joinRoom', () => {
    it('joins a PUBLIC room as a MEMBER', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const room = await s.seed.room(alice, 'PUBLIC');
      const joined = (await gqlOk(s.a, JOIN_ROOM, { r: room.id }, bob.token)).joinRoom as RoomView;
      expect(joined.id).toBe(room.id);
      expect(memberRoles(joined)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
      const bobMember = joined.members.find((m) => m.user.id === bob.id)!;
      expect(bobMember).toMatchObject({ user: { id: bob.id, username: bob.username }, role: 'MEMBER', lastReadSeq: 0 });
      expect(bobMember.joinedAt).toMatch(ISO_MS_UTC);
      expect((await myRooms(bob)).map((r) => r.id)).toEqual([room.id]);
    });

    it('is idempotent: joining twice leaves one membership', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const room = await s.seed.room(alice, 'PUBLIC');
      await gqlOk(s.a, JOIN_ROOM, { r: room.id }, bob.token);
      const again = (await gqlOk(s.b, JOIN_ROOM, { r: room.id }, bob.token)).joinRoom as RoomView;
      expect(again.id).toBe(room.id);
      expect(again.members).toHaveLength(2);
      expect(memberRoles(again)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
      // The owner joining their own room keeps OWNER.
      const owner = (await gqlOk(s.a, JOIN_ROOM, { r: room.id }, alice.token)).joinRoom as RoomView;
      expect(memberRoles(owner)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
    });

    it('refuses a PRIVATE room with FORBIDDEN and adds no membership', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const room = await s.seed.room(alice, 'PRIVATE');
      const result = await gql(s.a, JOIN_ROOM, { r: room.id }, bob.token);
      expect(codes(result)).toEqual(['FORBIDDEN']);
      expect(result.data ?? null).toBeNull();
      expect(memberRoles((await roomAs(alice, room.id))!)).toEqual(rolesOf([alice, 'OWNER']));
    });

    it('refuses an unknown room id with NOT_FOUND', async () => {
      const bob = await s.seed.user('bob');
      expect(codes(await gql(s.a, JOIN_ROOM, { r: MISSING_ID }, bob.token))).toEqual(['NOT_FOUND']);
    });

    it('refuses an id that is not a uuid with NOT_FOUND', async () => {
      const bob = await s.seed.user('bob');
      expect(codes(await gql(s.a, JOIN_ROOM, { r: 'not-a-uuid' }, bob.token))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(s.a, JOIN_ROOM, { r: '42' }, bob.token))).toEqual(['NOT_FOUND']);
    });
  });

  describe('Mutation.leaveRoom', () => {
    it('returns true and removes the viewer from members and from myRooms', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      expect((await myRooms(bob)).map((r) => r.id)).toEqual([room.id]);
      const result = await gqlOk(s.b, LEAVE_ROOM, { r: room.id }, bob.token);
      expect(result).toEqual({ leaveRoom: true });
      expect(memberRoles((await roomAs(alice, room.id))!)).toEqual(rolesOf([alice, 'OWNER']));
      expect(await myRooms(bob)).toEqual([]);
    });

    it('refuses a non-member with FORBIDDEN', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const carol = await s.seed.user('carol');
      const result = await gql(s.a, LEAVE_ROOM, { r: room.id }, carol.token);
      expect(codes(result)).toEqual(['FORBIDDEN']);
      expect(result.data ?? null).toBeNull();
      expect(memberRoles((await roomAs(alice, room.id))!)).toHaveLength(2);
    });

    it('refuses leaving a second time with FORBIDDEN', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await gqlOk(s.a, LEAVE_ROOM, { r: room.id }, bob.token);
      const again = await gql(s.b, LEAVE_ROOM, { r: room.id }, bob.token);
      expect(codes(again)).toEqual(['FORBIDDEN']);
      expect(memberRoles((await roomAs(alice, room.id))!)).toEqual(rolesOf([alice, 'OWNER']));
    });

    it('refuses an unknown room with NOT_FOUND', async () => {
      const bob = await s.seed.user('bob');
      expect(codes(await gql(s.a, LEAVE_ROOM, { r: MISSING_ID }, bob.token))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(s.a, LEAVE_ROOM, { r: 'nope' }, bob.token))).toEqual(['NOT_FOUND']);
    });
  });

  describe('Mutation.openDirectRoom', () => {
    it('creates a PRIVATE DIRECT room without a name whose members are both users', async () => {
      const [x, y] = await s.seed.users('x', 'y');
      const room = (await gqlOk(s.a, OPEN_DIRECT, { u: y.id }, x.token)).openDirectRoom as RoomView;
      expect(room).toMatchObject({ kind: 'DIRECT', visibility: 'PRIVATE', name: null, lastMessage: null });
      expect(room.createdAt).toMatch(ISO_MS_UTC);
      expect(memberRoles(room)).toEqual(rolesOf([x, 'MEMBER'], [y, 'MEMBER']));
      expect(room.members.every((m) => m.lastReadSeq === 0)).toBe(true);
    });

    it('is idempotent: both users get the same room, from either instance', async () => {
      const [x, y] = await s.seed.users('x', 'y');
      const first = (await gqlOk(s.a, OPEN_DIRECT, { u: y.id }, x.token)).openDirectRoom as RoomView;
      const again = (await gqlOk(s.b, OPEN_DIRECT, { u: y.id }, x.token)).openDirectRoom as RoomView;
      const other = (await gqlOk(s.b, OPEN_DIRECT, { u: x.id }, y.token)).openDirectRoom as RoomView;
      expect(again.id).toBe(first.id);
      expect(other.id).toBe(first.id);
      expect(other.members).toHaveLength(2);
    });

    it('gives 10 concurrent calls from both users through both instances one room', async () => {
      const [x, y] = await s.seed.users('x', 'y');
      const calls = Array.from({ length: 10 }, (_, i) => {
        const [viewer, other] = i % 2 === 0 ? [x, y] : [y, x];
        const app = Math.floor(i / 2) % 2 === 0 ? s.a : s.b;
        return gqlOk(app, OPEN_DIRECT, { u: other.id }, viewer.token);
      });
      const results = await Promise.all(calls);
      const ids = new Set(results.map((r) => r.openDirectRoom.id as string));
      expect(ids.size).toBe(1);
      const [id] = [...ids];
      for (const viewer of [x, y]) {
        const direct = (await myRooms(viewer)).filter((r) => r.kind === 'DIRECT');
        expect(direct.map((r) => r.id)).toEqual([id]);
        expect(memberRoles(direct[0]!)).toEqual(rolesOf([x, 'MEMBER'], [y, 'MEMBER']));
      }
    });

    it('refuses oneself with BAD_USER_INPUT', async () => {
      const x = await s.seed.user('x');
      const result = await gql(s.a, OPEN_DIRECT, { u: x.id }, x.token);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(await myRooms(x)).toEqual([]);
    });

    it('refuses an unknown user with NOT_FOUND', async () => {
      const x = await s.seed.user('x');
      expect(codes(await gql(s.a, OPEN_DIRECT, { u: MISSING_ID }, x.token))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(s.a, OPEN_DIRECT, { u: 'not-a-uuid' }, x.token))).toEqual(['NOT_FOUND']);
      expect(await myRooms(x)).toEqual([]);
    });

    it('keeps a third user out: joinRoom is FORBIDDEN and room(id) is null', async () => {
      const [x, y, z] = await s.seed.users('x', 'y', 'z');
      const room = (await gqlOk(s.a, OPEN_DIRECT, { u: y.id }, x.token)).openDirectRoom as RoomView;
      const join = await gql(s.a, JOIN_ROOM, { r: room.id }, z.token);
      expect(codes(join)).toEqual(['FORBIDDEN']);
      const seen = await gql(s.a, ROOM, { id: room.id }, z.token);
      expect(seen.errors).toBeUndefined();
      expect(seen.data).toEqual({ room: null });
      expect(memberRoles((await roomAs(x, room.id))!)).toEqual(rolesOf([x, 'MEMBER'], [y, 'MEMBER']));
    });
  });

  describe('Mutation.inviteToRoom', () => {
    it('lets any member of a PUBLIC room invite', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers('PUBLIC');
      const carol = await s.seed.user('carol');
      const invited = (await gqlOk(s.a, INVITE, { r: room.id, u: carol.id }, bob.token)).inviteToRoom as RoomView;
      expect(invited.id).toBe(room.id);
      expect(memberRoles(invited)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER'], [carol, 'MEMBER']));
      expect((await myRooms(carol)).map((r) => r.id)).toEqual([room.id]);
    });

    it('lets the OWNER of a PRIVATE room invite', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const room = await s.seed.room(alice, 'PRIVATE');
      const invited = (await gqlOk(s.a, INVITE, { r: room.id, u: bob.id }, alice.token)).inviteToRoom as RoomView;
      expect(memberRoles(invited)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
      expect((await roomAs(bob, room.id))!.visibility).toBe('PRIVATE');
    });

    it('refuses a plain MEMBER of a PRIVATE room with FORBIDDEN', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers('PRIVATE');
      const carol = await s.seed.user('carol');
      const result = await gql(s.a, INVITE, { r: room.id, u: carol.id }, bob.token);
      expect(codes(result)).toEqual(['FORBIDDEN']);
      expect(result.data ?? null).toBeNull();
      expect(memberRoles((await roomAs(alice, room.id))!)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
      expect(await myRooms(carol)).toEqual([]);
    });

    it('refuses an inviter who is not a member with FORBIDDEN', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers('PUBLIC');
      const [carol, dave] = await s.seed.users('carol', 'dave');
      expect(codes(await gql(s.a, INVITE, { r: room.id, u: dave.id }, carol.token))).toEqual(['FORBIDDEN']);
      expect(memberRoles((await roomAs(alice, room.id))!)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
    });

    it('refuses an unknown user with NOT_FOUND', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers('PUBLIC');
      expect(codes(await gql(s.a, INVITE, { r: room.id, u: MISSING_ID }, alice.token))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(s.a, INVITE, { r: room.id, u: 'not-a-uuid' }, alice.token))).toEqual(['NOT_FOUND']);
      expect(memberRoles((await roomAs(alice, room.id))!)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
    });

    it('refuses an unknown room with NOT_FOUND', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      expect(codes(await gql(s.a, INVITE, { r: MISSING_ID, u: bob.id }, alice.token))).toEqual(['NOT_FOUND']);
    });

    it('refuses a DIRECT room with BAD_USER_INPUT', async () => {
      const [x, y, z] = await s.seed.users('x', 'y', 'z');
      const room = (await gqlOk(s.a, OPEN_DIRECT, { u: y.id }, x.token)).openDirectRoom as RoomView;
      const result = await gql(s.a, INVITE, { r: room.id, u: z.id }, x.token);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(memberRoles((await roomAs(x, room.id))!)).toEqual(rolesOf([x, 'MEMBER'], [y, 'MEMBER']));
      expect(await myRooms(z)).toEqual([]);
    });

    it('is harmless for someone already a member: one membership, role unchanged', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers('PUBLIC');
      const again = (await gqlOk(s.a, INVITE, { r: room.id, u: bob.id }, alice.token)).inviteToRoom as RoomView;
      expect(again.members).toHaveLength(2);
      expect(memberRoles(again)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
      const owner = (await gqlOk(s.a, INVITE, { r: room.id, u: alice.id }, bob.token)).inviteToRoom as RoomView;
      expect(memberRoles(owner)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
    });
  });

  describe('Query.room', () => {
    it('shows a room to its member, PRIVATE too', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers('PRIVATE');
      const seen = await roomAs(bob, room.id, s.b);
      expect(seen).toMatchObject({ id: room.id, kind: 'GROUP', visibility: 'PRIVATE', name: room.name });
      expect(memberRoles(seen!)).toEqual(rolesOf([alice, 'OWNER'], [bob, 'MEMBER']));
    });

    it('shows a PUBLIC room to a non-member', async () => {
      const [alice, carol] = await s.seed.users('alice', 'carol');
      const room = await s.seed.room(alice, 'PUBLIC');
      const seen = await roomAs(carol, room.id);
      expect(seen).toMatchObject({ id: room.id, kind: 'GROUP', visibility: 'PUBLIC', name: room.name });
      expect(memberRoles(seen!)).toEqual(rolesOf([alice, 'OWNER']));
    });

    it('gives null, without an error, for a PRIVATE room the viewer is not in', async () => {
      const [alice, carol] = await s.seed.users('alice', 'carol');
      const room = await s.seed.room(alice, 'PRIVATE');
      const result = await gql(s.a, ROOM, { id: room.id }, carol.token);
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ room: null });
    });

    it('gives null, without an error, for an unknown id', async () => {
      const carol = await s.seed.user('carol');
      for (const id of [MISSING_ID, 'not-a-uuid']) {
        const result = await gql(s.a, ROOM, { id }, carol.token);
        expect(result.errors).toBeUndefined();
        expect(result.data).toEqual({ room: null });
      }
    });
  });

  describe('Query.myRooms', () => {
    it("lists only the viewer's rooms, most recent activity first", async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      // Activity is ordered by timestamp: each sleep puts the next activity at a later one.
      const r1 = await s.seed.room(alice, 'PUBLIC');
      await sleep(20); // r2's creation time after r1's
      const r2 = await s.seed.room(alice, 'PRIVATE');
      await sleep(20); // r3's after r2's
      const r3 = await s.seed.room(alice, 'PUBLIC');
      await sleep(20); // bob's room after r3
      const notMine = await s.seed.room(bob, 'PUBLIC');
      expect((await myRooms(alice)).map((r) => r.id)).toEqual([r3.id, r2.id, r1.id]);
      await sleep(20); // the bump after every creation
      await s.seed.send(alice, r1, 'bump');
      expect((await myRooms(alice)).map((r) => r.id)).toEqual([r1.id, r3.id, r2.id]);
      expect((await myRooms(alice, s.b)).map((r) => r.id)).toEqual([r1.id, r3.id, r2.id]);
      expect((await myRooms(bob)).map((r) => r.id)).toEqual([notMine.id]);
    });

    it('refuses a caller without a token with UNAUTHENTICATED', async () => {
      expect(codes(await gql(s.a, MY_ROOMS))).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('Query.publicRooms', () => {
    it('lists only PUBLIC GROUP rooms whose name contains the query, case-insensitively, by name', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const token = uniqueName('pub');
      const b = await s.seed.room(alice, 'PUBLIC', `${token}-b`);
      await s.seed.room(alice, 'PRIVATE', `${token}-p`);
      const a = await s.seed.room(alice, 'PUBLIC', `x-${token}-a`);
      const c = await s.seed.room(bob, 'PUBLIC', `${token}-c`);
      await gqlOk(s.a, OPEN_DIRECT, { u: bob.id }, alice.token);
      await s.seed.room(alice, 'PUBLIC', uniqueName('other'));
      const found = await publicRooms(bob, token.toUpperCase());
      // By name: 'pub_…-b' < 'pub_…-c' < 'x-pub_…-a'.
      expect(found.map((r) => r.name)).toEqual([b.name, c.name, a.name]);
      expect(found.map((r) => r.id)).toEqual([b.id, c.id, a.id]);
      expect(found.every((r) => r.kind === 'GROUP' && r.visibility === 'PUBLIC')).toBe(true);
      // Without a query: every PUBLIC GROUP room, never PRIVATE or DIRECT ones.
      const all = await publicRooms(bob, null, 200);
      expect(all.every((r) => r.kind === 'GROUP' && r.visibility === 'PUBLIC')).toBe(true);
      expect(all.filter((r) => r.name?.includes(token)).map((r) => r.id)).toEqual([b.id, c.id, a.id]);
    });

    it('returns at most `first` rooms', async () => {
      const alice = await s.seed.user('alice');
      const token = uniqueName('lim');
      for (const suffix of ['1', '2', '3']) await s.seed.room(alice, 'PUBLIC', `${token}-${suffix}`);
      expect((await publicRooms(alice, token, 2)).map((r) => r.name)).toEqual([`${token}-1`, `${token}-2`]);
      expect((await publicRooms(alice, token, 1)).map((r) => r.name)).toEqual([`${token}-1`]);
      expect((await publicRooms(alice, token)).map((r) => r.name)).toEqual([`${token}-1`, `${token}-2`, `${token}-3`]);
    });

    it('takes % and _ in the query literally', async () => {
      const alice = await s.seed.user('alice');
      const token = uniqueName('pct');
      const percent = await s.seed.room(alice, 'PUBLIC', `${token} 100%`);
      await s.seed.room(alice, 'PUBLIC', `${token} 1000`);
      await s.seed.room(alice, 'PUBLIC', `${token} 100 percent`);
      const byPercent = await publicRooms(alice, '100%', 200);
      expect(byPercent.filter((r) => r.name?.startsWith(token)).map((r) => r.id)).toEqual([percent.id]);
      expect(byPercent.every((r) => r.name?.includes('100%'))).toBe(true);

      const under = uniqueName('und');
      const literal = await s.seed.room(alice, 'PUBLIC', `${under} a_b`);
      await s.seed.room(alice, 'PUBLIC', `${under} axb`);
      expect((await publicRooms(alice, `${under} a_b`)).map((r) => r.id)).toEqual([literal.id]);
    });

    it('refuses a negative first with BAD_USER_INPUT', async () => {
      const alice = await s.seed.user('alice');
      const result = await gql(s.a, PUBLIC_ROOMS, { q: null, first: -1 }, alice.token);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.data ?? null).toBeNull();
    });
  });

  describe('Room.members and Room.lastMessage', () => {
    it('lists each member with user, role, joinedAt and lastReadSeq 0', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const seen = (await roomAs(alice, room.id))!;
      const byUser = new Map(seen.members.map((m) => [m.user.id, m]));
      expect(byUser.size).toBe(2);
      expect(byUser.get(alice.id)).toEqual({
        user: { id: alice.id, username: alice.username },
        role: 'OWNER',
        joinedAt: expect.stringMatching(ISO_MS_UTC),
        lastReadSeq: 0,
      });
      expect(byUser.get(bob.id)).toEqual({
        user: { id: bob.id, username: bob.username },
        role: 'MEMBER',
        joinedAt: expect.stringMatching(ISO_MS_UTC),
        lastReadSeq: 0,
      });
      expect(Date.parse(byUser.get(alice.id)!.joinedAt)).toBeLessThanOrEqual(Date.parse(byUser.get(bob.id)!.joinedAt));
      expect(Date.parse(seen.createdAt)).toBeLessThanOrEqual(Date.parse(byUser.get(alice.id)!.joinedAt) + 1);
    });

    it('gives lastMessage null before any message, then the newest message', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      expect((await roomAs(alice, room.id))!.lastMessage).toBeNull();
      await s.seed.send(alice, room, 'first');
      expect((await roomAs(bob, room.id, s.b))!.lastMessage).toEqual({ seq: 1, body: 'first' });
      await s.seed.send(bob, room, 'second');
      expect((await roomAs(alice, room.id))!.lastMessage).toEqual({ seq: 2, body: 'second' });
      expect((await myRooms(bob)).find((r) => r.id === room.id)!.lastMessage).toEqual({ seq: 2, body: 'second' });
    });

    it('shows no lastMessage to a non-member looking at a PUBLIC room: history is for members', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers('PUBLIC');
      const outsider = await s.seed.user('outsider');
      await s.seed.send(alice, room, 'members only');
      const seen = (await roomAs(outsider, room.id))!;
      expect(seen.id).toBe(room.id);
      expect(seen.lastMessage).toBeNull();
    });
  });
});

import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, sleep, Subscription, trackedClients, type GqlResult } from '../support/client.js';
import { ISO_UTC_MS } from '../support/messages.js';
import { moderator, ok, outcome, type Role } from '../support/moderation.js';
import { ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import { MISSING_ID, type SentMessage, type TestRoom, type TestUser } from '../support/seed.js';
import { forEachBackend } from '../support/suite.js';

/**
 * Pins as a client sees them: who may pin, the room's list, the limit, and
 * what deleting does. The rules: contract/chat.graphql, "Threads, mentions and pins".
 */

const PINNED = 'id pinnedAt pinnedBy { id }';
const PIN = `mutation($m: ID!) { pinMessage(messageId: $m) { ${PINNED} } }`;
const UNPIN = `mutation($m: ID!) { unpinMessage(messageId: $m) { ${PINNED} } }`;
const DELETE = `mutation($m: ID!) { deleteMessage(id: $m) { ${PINNED} deletedAt } }`;
const PINNED_MESSAGES = `query($r: ID!) { room(id: $r) { pinnedMessages { ${PINNED} } } }`;
const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MessageChanged { change message { ${PINNED} deletedAt } }
    ${ROOM_EVENTS_PROBE_FIELDS}
  }
}`;

interface Pinned {
  id: string;
  pinnedAt: string | null;
  pinnedBy: { id: string } | null;
}

forEachBackend('Pins', (s) => {
  const connect = trackedClients();

  const pinRaw = (by: TestUser, message: { id: string }, app = s.a) => gql(app, PIN, { m: message.id }, by.token);
  const unpinRaw = (by: TestUser, message: { id: string }, app = s.a) => gql(app, UNPIN, { m: message.id }, by.token);
  const pin = async (by: TestUser, message: { id: string }, app = s.a) => ok(await pinRaw(by, message, app)).pinMessage as Pinned;
  const unpin = async (by: TestUser, message: { id: string }, app = s.a) =>
    ok(await unpinRaw(by, message, app)).unpinMessage as Pinned;
  const pinnedIn = async (viewer: TestUser, room: TestRoom, app = s.a) =>
    (await gqlOk(app, PINNED_MESSAGES, { r: room.id }, viewer.token)).room.pinnedMessages as Pinned[];
  const pinnedIds = async (viewer: TestUser, room: TestRoom, app = s.a) => (await pinnedIn(viewer, room, app)).map((m) => m.id);
  const refusedWith = (result: GqlResult) => [outcome(result), result.data ?? null];

  type Change = { change: string; message: Pinned & { deletedAt: string | null } };
  /** MessageChanged events but the probe's edits, with the fields this file selects (the probe adds body). */
  const changes = (sub: Subscription): Change[] =>
    sub.values
      .map((v) => v.roomEvents)
      .filter((e) => e.__typename === 'MessageChanged' && e.change !== 'EDITED')
      .map(({ change, message: { id, pinnedAt, pinnedBy, deletedAt } }) => ({
        change,
        message: { id, pinnedAt, pinnedBy, deletedAt },
      }));

  /** A GROUP room of `owner` with one member per role asked. */
  async function roomWithRoles<R extends Role[]>(...roles: R) {
    const owner = await s.seed.user('owner');
    const room = await s.seed.room(owner);
    const members = [] as TestUser[];
    for (const role of roles) {
      const member = await s.seed.user(role.toLowerCase());
      await s.seed.join(member, room);
      if (role !== 'MEMBER') expect(outcome(await moderator(s.a).setRole(owner, room, member, role))).toBe('ok');
      members.push(member);
    }
    return { owner, room, members: members as { [K in keyof R]: TestUser } };
  }

  describe('Mutation.pinMessage and Mutation.unpinMessage', () => {
    it('lets MODERATOR and above pin and unpin in a GROUP room, and refuses a MEMBER with FORBIDDEN', async () => {
      const {
        owner,
        room,
        members: [admin, mod, member],
      } = await roomWithRoles('ADMIN', 'MODERATOR', 'MEMBER');
      const [one, two, three, four] = await s.seed.sendMany(member, room, 4);
      for (const [by, message] of [
        [owner, one],
        [admin, two],
        [mod, three],
      ] as const) {
        const pinned = await pin(by, message!, s.b);
        expect(pinned).toEqual({ id: message!.id, pinnedAt: expect.stringMatching(ISO_UTC_MS), pinnedBy: { id: by.id } });
      }
      // A MEMBER may do neither, even to their own message.
      expect(refusedWith(await pinRaw(member, four!))).toEqual(['FORBIDDEN', null]);
      expect(refusedWith(await unpinRaw(member, one!))).toEqual(['FORBIDDEN', null]);
      expect((await pinnedIds(member, room)).sort()).toEqual([one!.id, two!.id, three!.id].sort());
      // Any MODERATOR and above may unpin what another pinned.
      expect(await unpin(mod, one!)).toEqual({ id: one!.id, pinnedAt: null, pinnedBy: null });
      expect((await pinnedIds(owner, room)).sort()).toEqual([two!.id, three!.id].sort());
    });

    it('lets either member pin and unpin in a DIRECT room', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const direct = await gqlOk(s.a, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }', { u: bob.id }, alice.token);
      const room = { id: direct.openDirectRoom.id, name: '' };
      const fromAlice = await s.seed.send(alice, room, 'from alice');
      const fromBob = await s.seed.send(bob, room, 'from bob');
      expect(await pin(bob, fromAlice)).toMatchObject({ pinnedBy: { id: bob.id } });
      expect(await pin(alice, fromBob, s.b)).toMatchObject({ pinnedBy: { id: alice.id } });
      expect((await pinnedIds(alice, room)).sort()).toEqual([fromAlice.id, fromBob.id].sort());
      expect(await unpin(alice, fromAlice)).toMatchObject({ pinnedAt: null });
      expect(await pinnedIds(bob, room, s.b)).toEqual([fromBob.id]);
    });

    it('refuses a non-member with FORBIDDEN and an unknown message with NOT_FOUND', async () => {
      const { alice, dave, room } = await s.seed.roomOfThree();
      const sent = await s.seed.send(alice, room, 'pin me');
      expect(refusedWith(await pinRaw(dave, sent))).toEqual(['FORBIDDEN', null]);
      await pin(alice, sent);
      expect(refusedWith(await unpinRaw(dave, sent))).toEqual(['FORBIDDEN', null]);
      expect(codes(await pinRaw(alice, { id: MISSING_ID }))).toEqual(['NOT_FOUND']);
      expect(codes(await unpinRaw(alice, { id: MISSING_ID }))).toEqual(['NOT_FOUND']);
      expect(await pinnedIds(alice, room)).toEqual([sent.id]);
    });

    it('is idempotent, and Room.pinnedMessages lists the newest pin first', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const [one, two, three] = await s.seed.sendMany(bob, room, 3);
      // The order is by the time of the pin: pins a few milliseconds apart.
      const first = await pin(alice, one!);
      await sleep(5);
      await pin(alice, three!);
      await sleep(5);
      await pin(alice, two!);
      expect(await pinnedIds(bob, room, s.b)).toEqual([two!.id, three!.id, one!.id]);
      // Pinning again changes nothing, not even the pin's time.
      expect(await pin(alice, one!, s.b)).toEqual(first);
      expect(await pinnedIds(bob, room)).toEqual([two!.id, three!.id, one!.id]);
      expect(await unpin(alice, three!)).toEqual({ id: three!.id, pinnedAt: null, pinnedBy: null });
      expect(await unpin(alice, three!, s.b)).toEqual({ id: three!.id, pinnedAt: null, pinnedBy: null });
      expect(await pinnedIn(bob, room)).toEqual([
        { id: two!.id, pinnedAt: expect.stringMatching(ISO_UTC_MS), pinnedBy: { id: alice.id } },
        first,
      ]);
    });

    it('announces MessageChanged PINNED and UNPINNED on roomEvents on the other instance, once each', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'worth pinning');
      const sub = new Subscription(connect(s.b, bob.token), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, bob, room));
      await sub.live();
      const pinned = await pin(alice, sent);
      await pin(alice, sent); // already pinned: nothing to announce
      await sub.until(() => changes(sub).length >= 1);
      await unpin(alice, sent);
      await unpin(alice, sent); // already unpinned
      await sub.until(() => changes(sub).length >= 2);
      await sub.flush();
      expect(changes(sub)).toEqual([
        { change: 'PINNED', message: { ...pinned, deletedAt: null } },
        { change: 'UNPINNED', message: { id: sent.id, pinnedAt: null, pinnedBy: null, deletedAt: null } },
      ]);
    });

    it('the 51st pin is refused with PIN_LIMIT', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent: SentMessage[] = await s.seed.sendMany(bob, room, 51);
      for (const message of sent.slice(0, 50)) await pin(alice, message);
      const last = sent[50]!;
      const refused = await pinRaw(alice, last, s.b);
      expect(refusedWith(refused)).toEqual(['BAD_USER_INPUT PIN_LIMIT', null]);
      expect(await pinnedIn(alice, room)).toHaveLength(50);
      expect((await pinnedIds(alice, room)).includes(last.id)).toBe(false);
      // A pinned message pinned again at the limit is still answered, not refused.
      expect(await pin(alice, sent[0]!)).toMatchObject({ id: sent[0]!.id, pinnedBy: { id: alice.id } });
      // One unpinned makes room for one more.
      await unpin(alice, sent[0]!);
      expect(await pin(alice, last, s.b)).toMatchObject({ id: last.id, pinnedBy: { id: alice.id } });
      expect(outcome(await pinRaw(alice, sent[0]!))).toBe('BAD_USER_INPUT PIN_LIMIT');
    });

    it('holds the limit against pins racing on both instances', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.sendMany(bob, room, 54);
      for (const message of sent.slice(0, 48)) await pin(alice, message);
      const racing = await Promise.all(sent.slice(48).map((message, i) => pinRaw(alice, message, i % 2 ? s.a : s.b)));
      expect(racing.map(outcome).sort()).toEqual([
        'BAD_USER_INPUT PIN_LIMIT',
        'BAD_USER_INPUT PIN_LIMIT',
        'BAD_USER_INPUT PIN_LIMIT',
        'BAD_USER_INPUT PIN_LIMIT',
        'ok',
        'ok',
      ]);
      expect(await pinnedIn(bob, room)).toHaveLength(50);
    });

    it('deleting a pinned message unpins it', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const [kept, gone] = await s.seed.sendMany(bob, room, 2);
      await pin(alice, kept!);
      await pin(alice, gone!);
      const sub = new Subscription(connect(s.b, alice.token), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, alice, room));
      await sub.live();
      const deleted = ok(await gql(s.a, DELETE, { m: gone!.id }, bob.token)).deleteMessage;
      expect(deleted).toEqual({ id: gone!.id, pinnedAt: null, pinnedBy: null, deletedAt: expect.stringMatching(ISO_UTC_MS) });
      expect(await pinnedIds(alice, room, s.b)).toEqual([kept!.id]);
      await sub.until(() => changes(sub).some((c) => c.change === 'DELETED'));
      expect(changes(sub).find((c) => c.change === 'DELETED')?.message).toMatchObject({ id: gone!.id, pinnedAt: null });
      // A tombstone cannot be pinned again.
      expect(refusedWith(await pinRaw(alice, gone!))).toEqual(['BAD_USER_INPUT', null]);
      expect(await pinnedIds(bob, room)).toEqual([kept!.id]);
    });
  });
});

import { count, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { codes, eventually, gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { TestClock } from '../support/clock.js';
import { HttpStream } from '../support/http-stream.js';
import { moderator, ok, outcome, rolesIn, type Role } from '../support/moderation.js';
import { messageProbe, myEventsProbe, ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import { MISSING_ID, seeder, type TestRoom, type TestUser } from '../support/seed.js';
import { moderationActions, type App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const MESSAGE_ADDED = 'subscription($r: ID!) { messageAdded(roomId: $r) { id seq body } }';
const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MemberChanged { change user { id } }
    ... on ModerationEvent { action { kind roomId actor { id } target { id } role reason expiresAt message { id } } }
    ${ROOM_EVENTS_PROBE_FIELDS}
  }
}`;
const MY_EVENTS = `subscription {
  myEvents {
    __typename
    ... on RoomAdded { room { id } }
    ... on NewMessage { message { roomId } }
    ... on RoomRemoved { roomId reason }
  }
}`;
const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq body } }';
const MESSAGES = 'query($r: ID!) { messages(roomId: $r) { edges { node { id body } } } }';
const ROOM = 'query($r: ID!) { room(id: $r) { id viewerRole slowModeSeconds frozen viewerMutedUntil } }';
const LOG = `query($r: ID!, $first: Int, $before: ID) {
  moderationLog(roomId: $r, first: $first, before: $before) {
    id kind roomId actor { id } target { id } role reason expiresAt createdAt message { id }
  }
}`;

type Action = {
  kind: string;
  actor: { id: string };
  target: { id: string } | null;
  role: string | null;
  reason: string | null;
  expiresAt: string | null;
  message: { id: string } | null;
};
const roomEvents = (sub: Subscription) => sub.values.map((v) => v.roomEvents as { __typename: string; [k: string]: any });
const actionsOf = (sub: Subscription): Action[] =>
  roomEvents(sub)
    .filter((e) => e.__typename === 'ModerationEvent')
    .map((e) => e.action as Action);

forEachBackend('Moderation', (s) => {
  const connect = trackedClients();
  const mod = () => moderator(s.a);

  /** A room owned by `owner` with one member per role asked, each given that role by the owner. */
  async function roomWithRoles<R extends Role[]>(...roles: R) {
    const owner = await s.seed.user('owner');
    const room = await s.seed.room(owner);
    const members = [] as TestUser[];
    for (const role of roles) {
      const member = await s.seed.user(role.toLowerCase());
      await s.seed.join(member, room);
      if (role !== 'MEMBER') ok(await mod().setRole(owner, room, member, role));
      members.push(member);
    }
    return { owner, room, members: members as { [K in keyof R]: TestUser } };
  }

  const roomEventsOf = (app: App, viewer: TestUser, room: TestRoom, prober: TestUser = viewer) =>
    new Subscription(connect(app, viewer.token), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, prober, room));
  const myEventsOf = (app: App, viewer: TestUser) =>
    new Subscription(connect(app, viewer.token), MY_EVENTS, {}, myEventsProbe(s.a, viewer));

  describe('the permission table', () => {
    it('a MODERATOR cannot kick an ADMIN', async () => {
      const {
        room,
        owner,
        members: [admin, moderatorUser],
      } = await roomWithRoles('ADMIN', 'MODERATOR');
      const refused = await mod().kick(moderatorUser, room, admin);
      expect(outcome(refused)).toBe('FORBIDDEN');
      expect(refused.data ?? null).toBeNull();
      expect((await rolesIn(s.a, owner, room))[admin.id]).toBe('ADMIN');
    });

    it('lets each rank mute only the ranks below it, never itself nor the OWNER, and MEMBERs nobody', async () => {
      const {
        owner,
        room,
        members: [admin, admin2, moderatorUser, moderator2, member, member2],
      } = await roomWithRoles('ADMIN', 'ADMIN', 'MODERATOR', 'MODERATOR', 'MEMBER', 'MEMBER');
      const actors = { OWNER: owner, ADMIN: admin, MODERATOR: moderatorUser, MEMBER: member };
      const targets = { OWNER: owner, ADMIN: admin2, MODERATOR: moderator2, MEMBER: member2 };
      const seen: Record<string, string> = {};
      for (const [actorRole, actor] of Object.entries(actors)) {
        for (const [targetRole, target] of [...Object.entries(targets), ['self', actor] as const]) {
          const result = await mod().mute(actor, room, target, 60);
          seen[`${actorRole} mutes ${targetRole}`] = outcome(result);
          if (outcome(result) === 'ok') ok(await mod().mute(actor, room, target, 0));
        }
      }
      expect(seen).toEqual({
        'OWNER mutes OWNER': 'FORBIDDEN',
        'OWNER mutes ADMIN': 'ok',
        'OWNER mutes MODERATOR': 'ok',
        'OWNER mutes MEMBER': 'ok',
        'OWNER mutes self': 'FORBIDDEN',
        'ADMIN mutes OWNER': 'FORBIDDEN',
        'ADMIN mutes ADMIN': 'FORBIDDEN',
        'ADMIN mutes MODERATOR': 'ok',
        'ADMIN mutes MEMBER': 'ok',
        'ADMIN mutes self': 'FORBIDDEN',
        'MODERATOR mutes OWNER': 'FORBIDDEN',
        'MODERATOR mutes ADMIN': 'FORBIDDEN',
        'MODERATOR mutes MODERATOR': 'FORBIDDEN',
        'MODERATOR mutes MEMBER': 'ok',
        'MODERATOR mutes self': 'FORBIDDEN',
        'MEMBER mutes OWNER': 'FORBIDDEN',
        'MEMBER mutes ADMIN': 'FORBIDDEN',
        'MEMBER mutes MODERATOR': 'FORBIDDEN',
        'MEMBER mutes MEMBER': 'FORBIDDEN',
        'MEMBER mutes self': 'FORBIDDEN',
      });
    });

    it('refuses every moderation mutation in a DIRECT room with FORBIDDEN', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const direct = await gqlOk(s.a, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id name } }', { u: bob.id }, alice.token);
      const room = { id: direct.openDirectRoom.id, name: '' };
      const m = mod();
      const results = await Promise.all([
        m.setRole(alice, room, bob, 'MODERATOR'),
        m.kick(alice, room, bob),
        m.ban(alice, room, bob),
        m.unban(alice, room, bob),
        m.mute(alice, room, bob, 60),
        m.updateRoom(alice, room, { frozen: true }),
        gql(s.a, LOG, { r: room.id }, alice.token),
      ]);
      expect(results.map(outcome)).toEqual(Array(7).fill('FORBIDDEN'));
    });

    it('answers NOT_FOUND for an unknown room, and for a user who is not a member to a moderator', async () => {
      const { owner, room } = await roomWithRoles();
      const outsider = await s.seed.user('outsider');
      expect(outcome(await mod().kick(owner, { id: MISSING_ID, name: '' }, outsider))).toBe('NOT_FOUND');
      expect(outcome(await mod().kick(owner, room, outsider))).toBe('NOT_FOUND');
      expect(outcome(await mod().mute(owner, room, outsider, 60))).toBe('NOT_FOUND');
      expect(outcome(await mod().setRole(owner, room, outsider, 'MODERATOR'))).toBe('NOT_FOUND');
    });

    it('tells a member their role, and nobody else one: Room.viewerRole', async () => {
      const {
        owner,
        room,
        members: [moderatorUser],
      } = await roomWithRoles('MODERATOR');
      const outsider = await s.seed.user('outsider');
      const role = async (who: TestUser) => (await gqlOk(s.b, ROOM, { r: room.id }, who.token)).room.viewerRole;
      expect([await role(owner), await role(moderatorUser), await role(outsider)]).toEqual(['OWNER', 'MODERATOR', null]);
    });
  });

  describe('Mutation.setMemberRole', () => {
    it('hands the room over: the new OWNER is the only one, the previous owner becomes ADMIN, both changes announced and logged', async () => {
      const {
        owner,
        room,
        members: [bob],
      } = await roomWithRoles('MEMBER');
      const sub = roomEventsOf(s.b, bob, room);
      await sub.live();
      const result = ok(await mod().setRole(owner, room, bob, 'OWNER'));
      expect(result.setMemberRole).toEqual({ role: 'OWNER', user: { id: bob.id } });
      const roles = await rolesIn(s.b, bob, room);
      expect(roles).toEqual({ [owner.id]: 'ADMIN', [bob.id]: 'OWNER' });
      await sub.until(() => actionsOf(sub).length >= 2);
      expect(actionsOf(sub).map((a) => [a.kind, a.actor.id, a.target?.id, a.role])).toEqual([
        ['ROLE_CHANGED', owner.id, bob.id, 'OWNER'],
        ['ROLE_CHANGED', owner.id, owner.id, 'ADMIN'],
      ]);
      // The new owner rules now: the former one may no longer give ADMIN.
      const carol = await s.seed.user('carol');
      await s.seed.join(carol, room);
      expect(outcome(await mod().setRole(owner, room, carol, 'ADMIN'))).toBe('FORBIDDEN');
      ok(await mod().setRole(bob, room, carol, 'ADMIN'));
    });

    it('lets an ADMIN give MODERATOR and MEMBER below ADMIN only; the OWNER cannot change their own role', async () => {
      const {
        owner,
        room,
        members: [admin, admin2, member],
      } = await roomWithRoles('ADMIN', 'ADMIN', 'MEMBER');
      expect(outcome(await mod().setRole(admin, room, member, 'MODERATOR'))).toBe('ok');
      expect(outcome(await mod().setRole(admin, room, member, 'MEMBER'))).toBe('ok');
      expect(outcome(await mod().setRole(admin, room, member, 'ADMIN'))).toBe('FORBIDDEN');
      expect(outcome(await mod().setRole(admin, room, admin2, 'MEMBER'))).toBe('FORBIDDEN');
      expect(outcome(await mod().setRole(admin, room, owner, 'MEMBER'))).toBe('FORBIDDEN');
      expect(outcome(await mod().setRole(owner, room, owner, 'ADMIN'))).toBe('FORBIDDEN');
      expect(outcome(await mod().setRole(member, room, admin, 'MEMBER'))).toBe('FORBIDDEN');
      expect(await rolesIn(s.a, owner, room)).toEqual({
        [owner.id]: 'OWNER',
        [admin.id]: 'ADMIN',
        [admin2.id]: 'ADMIN',
        [member.id]: 'MEMBER',
      });
    });

    it('keeps one OWNER when the OWNER tries to leave others behind, and lets a sole OWNER leave', async () => {
      const { owner, room } = await roomWithRoles('MEMBER');
      const refused = await gql(s.a, 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: room.id }, owner.token);
      expect(outcome(refused)).toBe('FORBIDDEN');
      const alone = await s.seed.user('alone');
      const own = await s.seed.room(alone);
      expect(await s.seed.leave(alone, own)).toEqual({ leaveRoom: true });
      // The next to join an ownerless room owns it.
      const next = await s.seed.user('next');
      await s.seed.join(next, own);
      expect(await rolesIn(s.a, next, own)).toEqual({ [next.id]: 'OWNER' });
    });
  });

  describe('Mutation.kickMember', () => {
    it("ends the member's streams at once, tells them KICKED, tells the room LEFT and the ModerationEvent; they may join again", async () => {
      const { owner, room, members } = await roomWithRoles('MODERATOR', 'MEMBER');
      const [moderatorUser, bob] = members;
      const theirs = new Subscription(connect(s.b, bob.token), MESSAGE_ADDED, { r: room.id }, messageProbe(s.a, owner, room));
      const mine = myEventsOf(s.b, bob);
      const watching = roomEventsOf(s.b, owner, room);
      await Promise.all([theirs.live(), mine.live(), watching.live()]);
      expect(ok(await mod().kick(moderatorUser, room, bob, 'spam'))).toEqual({ kickMember: true });
      await theirs.settled();
      expect([theirs.completed, theirs.error]).toEqual([true, null]);
      await mine.until(() => mine.values.some((v) => v.myEvents.__typename === 'RoomRemoved'));
      expect(mine.values.map((v) => v.myEvents).filter((e) => e.__typename === 'RoomRemoved')).toEqual([
        { __typename: 'RoomRemoved', roomId: room.id, reason: 'KICKED' },
      ]);
      await watching.until(() => actionsOf(watching).length >= 1);
      // Presence (ONLINE, OFFLINE) comes and goes with sockets; membership is what this is about.
      const membership = roomEvents(watching).filter(
        (e) => e.__typename === 'MemberChanged' && ['JOINED', 'LEFT'].includes(e.change),
      );
      expect(membership).toEqual([{ __typename: 'MemberChanged', change: 'LEFT', user: { id: bob.id } }]);
      expect(actionsOf(watching)).toEqual([
        {
          kind: 'KICKED',
          roomId: room.id,
          actor: { id: moderatorUser.id },
          target: { id: bob.id },
          role: null,
          reason: 'spam',
          expiresAt: null,
          message: null,
        },
      ]);
      expect(codes(await gql(s.b, MESSAGES, { r: room.id }, bob.token))).toEqual(['FORBIDDEN']);
      await s.seed.join(bob, room);
      expect((await rolesIn(s.a, owner, room))[bob.id]).toBe('MEMBER');
    });
  });

  describe('Mutation.banMember', () => {
    it("a banned member's messageAdded on instance B ends when the ban is issued on A, over graphql-ws, SSE and multipart", async () => {
      const {
        owner,
        room,
        members: [bob],
      } = await roomWithRoles('MEMBER');
      const ws = new Subscription(connect(s.b, bob.token), MESSAGE_ADDED, { r: room.id }, messageProbe(s.a, owner, room));
      const events = roomEventsOf(s.b, bob, room, owner);
      await Promise.all([ws.live(), events.live()]);
      const sse = await HttpStream.open(s.b, bob.token, 'sse', MESSAGE_ADDED, { r: room.id });
      const multipart = await HttpStream.open(s.b, bob.token, 'multipart', MESSAGE_ADDED, { r: room.id });
      try {
        // Both streams are live once a message sent now reaches them.
        const seen = (stream: HttpStream, id: string) => stream.results.some((r) => r.data?.messageAdded?.id === id);
        await Promise.all(
          [sse, multipart].map(async (stream) => {
            for (let i = 0; ; i++) {
              const sent = await s.seed.send(owner, room, `before the ban ${i}`);
              try {
                return await stream.until(() => seen(stream, sent.id), 'a live message', 300);
              } catch (error) {
                if (i >= 30) throw error;
              }
            }
          }),
        );
        ok(await mod().ban(owner, room, bob, null, 'flooding'));
        await Promise.all([ws.settled(), events.settled()]);
        await sse.until(() => sse.ended, 'the end of the SSE stream');
        await multipart.until(() => multipart.ended, 'the end of the multipart stream');
        expect({
          ws: [ws.completed, ws.error],
          roomEvents: [events.completed, events.error],
          sse: sse.completed,
          multipart: multipart.completed,
          errors: [...sse.results, ...multipart.results].filter((r) => r.errors),
        }).toEqual({ ws: [true, null], roomEvents: [true, null], sse: true, multipart: true, errors: [] });
        // messages and room stop answering for them, though the room is PUBLIC.
        expect(codes(await gql(s.b, MESSAGES, { r: room.id }, bob.token))).toEqual(['FORBIDDEN']);
        expect((await gqlOk(s.b, ROOM, { r: room.id }, bob.token)).room).toBeNull();
      } finally {
        sse.close();
        multipart.close();
      }
    });

    it('refuses joinRoom and inviteToRoom with BANNED until unbanned, bans a non-member too, and lists bans to moderators only', async () => {
      const {
        owner,
        room,
        members: [moderatorUser, bob],
      } = await roomWithRoles('MODERATOR', 'MEMBER');
      const stranger = await s.seed.user('stranger');
      const banned = ok(await mod().ban(moderatorUser, room, stranger, null, 'known spammer'));
      expect(banned.banMember).toMatchObject({
        user: { id: stranger.id },
        bannedBy: { id: moderatorUser.id },
        reason: 'known spammer',
        expiresAt: null,
      });
      const join = await gql(s.b, 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room.id }, stranger.token);
      expect(outcome(join)).toBe('FORBIDDEN BANNED');
      const invite = await gql(
        s.b,
        'mutation($r: ID!, $u: ID!) { inviteToRoom(roomId: $r, userId: $u) { id } }',
        { r: room.id, u: stranger.id },
        bob.token,
      );
      expect(outcome(invite)).toBe('FORBIDDEN BANNED');
      const BANS = 'query($r: ID!) { room(id: $r) { bans { user { id } bannedBy { id } reason expiresAt } } }';
      expect((await gqlOk(s.a, BANS, { r: room.id }, moderatorUser.token)).room.bans).toEqual([
        { user: { id: stranger.id }, bannedBy: { id: moderatorUser.id }, reason: 'known spammer', expiresAt: null },
      ]);
      expect(codes(await gql(s.a, BANS, { r: room.id }, bob.token))).toEqual(['FORBIDDEN']);
      expect(ok(await mod().unban(moderatorUser, room, stranger))).toEqual({ unbanMember: true });
      expect(ok(await mod().unban(moderatorUser, room, stranger))).toEqual({ unbanMember: true }); // idempotent
      await s.seed.join(stranger, room);
      expect((await rolesIn(s.a, owner, room))[stranger.id]).toBe('MEMBER');
    });

    it('refuses a duration outside 60 s to 365 days and a reason over 500 characters with BAD_USER_INPUT', async () => {
      const {
        owner,
        room,
        members: [bob],
      } = await roomWithRoles('MEMBER');
      const results = await Promise.all([
        mod().ban(owner, room, bob, 59),
        mod().ban(owner, room, bob, 31_536_001),
        mod().ban(owner, room, bob, 60, 'x'.repeat(501)),
      ]);
      expect(results.map(outcome)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
      expect((await rolesIn(s.a, owner, room))[bob.id]).toBe('MEMBER');
    });
  });

  describe('Mutation.muteMember', () => {
    it('lets a muted member read but not post, edit, react or type (MUTED with retryAfter), until unmuted', async () => {
      const {
        owner,
        room,
        members: [bob],
      } = await roomWithRoles('MEMBER');
      const before = await s.seed.send(bob, room, 'said before');
      const muted = ok(await mod().mute(owner, room, bob, 600, 'cool down'));
      expect(muted.muteMember.user).toEqual({ id: bob.id });
      expect(Date.parse(muted.muteMember.mutedUntil) - Date.now()).toBeGreaterThan(590_000);
      const attempts = await Promise.all([
        gql(s.b, SEND, { i: { roomId: room.id, body: 'let me speak' } }, bob.token),
        gql(
          s.b,
          'mutation($i: EditMessageInput!) { editMessage(input: $i) { id } }',
          { i: { id: before.id, body: 'x' } },
          bob.token,
        ),
        gql(s.b, 'mutation($m: ID!) { addReaction(messageId: $m, emoji: "👍") { id } }', { m: before.id }, bob.token),
        gql(s.b, 'mutation($m: ID!) { removeReaction(messageId: $m, emoji: "👍") { id } }', { m: before.id }, bob.token),
        gql(s.b, 'mutation($r: ID!) { setTyping(roomId: $r, typing: true) }', { r: room.id }, bob.token),
      ]);
      expect(attempts.map(outcome)).toEqual(Array(5).fill('FORBIDDEN MUTED'));
      for (const attempt of attempts) {
        const retryAfter = attempt.errors![0]!.extensions!.retryAfter as number;
        expect(retryAfter > 590 && retryAfter <= 600).toBe(true);
      }
      // Reading goes on.
      expect((await gqlOk(s.b, MESSAGES, { r: room.id }, bob.token)).messages.edges).toHaveLength(1);
      const seen = (await gqlOk(s.b, ROOM, { r: room.id }, bob.token)).room.viewerMutedUntil;
      expect(seen).toBe(muted.muteMember.mutedUntil);
      expect(ok(await mod().mute(owner, room, bob, 0)).muteMember.mutedUntil).toBeNull();
      await s.seed.send(bob, room, 'free again');
    });

    it('refuses a duration outside 10 s to 28 days (0 lifts) with BAD_USER_INPUT', async () => {
      const {
        owner,
        room,
        members: [bob],
      } = await roomWithRoles('MEMBER');
      const results = await Promise.all([mod().mute(owner, room, bob, 9), mod().mute(owner, room, bob, 2_419_201)]);
      expect(results.map(outcome)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    });
  });

  describe('Mutation.updateRoom', () => {
    it('renames, sets slow mode and freezes for ADMIN and above only, announcing ROOM_UPDATED to every member', async () => {
      const {
        owner,
        room,
        members: [admin, moderatorUser, bob],
      } = await roomWithRoles('ADMIN', 'MODERATOR', 'MEMBER');
      const sub = roomEventsOf(s.b, bob, room);
      await sub.live();
      expect(outcome(await mod().updateRoom(moderatorUser, room, { frozen: true }))).toBe('FORBIDDEN');
      expect(outcome(await mod().updateRoom(bob, room, { frozen: true }))).toBe('FORBIDDEN');
      const updated = ok(await mod().updateRoom(admin, room, { name: 'calm room', slowModeSeconds: 30, frozen: true }));
      expect(updated.updateRoom).toEqual({ id: room.id, name: 'calm room', slowModeSeconds: 30, frozen: true });
      await sub.until(() => actionsOf(sub).length >= 1);
      expect(actionsOf(sub)).toMatchObject([{ kind: 'ROOM_UPDATED', actor: { id: admin.id }, target: null }]);
      expect((await gqlOk(s.b, ROOM, { r: room.id }, owner.token)).room).toMatchObject({ slowModeSeconds: 30, frozen: true });
    });

    it('refuses slow mode past 21600 s, a negative one and an empty name with BAD_USER_INPUT', async () => {
      const { owner, room } = await roomWithRoles();
      const results = await Promise.all([
        mod().updateRoom(owner, room, { slowModeSeconds: 21_601 }),
        mod().updateRoom(owner, room, { slowModeSeconds: -1 }),
        mod().updateRoom(owner, room, { name: '' }),
      ]);
      expect(results.map(outcome)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
      expect(ok(await mod().updateRoom(owner, room, { slowModeSeconds: 21_600 })).updateRoom.slowModeSeconds).toBe(21_600);
    });

    it('a frozen room refuses a MEMBER’s send, reaction and typing with ROOM_FROZEN, and takes a MODERATOR’s', async () => {
      const {
        owner,
        room,
        members: [moderatorUser, bob],
      } = await roomWithRoles('MODERATOR', 'MEMBER');
      const earlier = await s.seed.send(bob, room, 'before the freeze');
      ok(await mod().updateRoom(owner, room, { frozen: true }));
      const refused = await Promise.all([
        gql(s.b, SEND, { i: { roomId: room.id, body: 'anyone?' } }, bob.token),
        gql(s.b, 'mutation($m: ID!) { addReaction(messageId: $m, emoji: "👍") { id } }', { m: earlier.id }, bob.token),
        gql(s.b, 'mutation($r: ID!) { setTyping(roomId: $r, typing: true) }', { r: room.id }, bob.token),
        gql(
          s.b,
          'mutation($i: EditMessageInput!) { editMessage(input: $i) { id } }',
          { i: { id: earlier.id, body: 'y' } },
          bob.token,
        ),
      ]);
      expect(refused.map(outcome)).toEqual(Array(4).fill('FORBIDDEN ROOM_FROZEN'));
      await seeder(s.b).send(moderatorUser, room, 'moderators may');
      ok(await mod().updateRoom(owner, room, { frozen: false }));
      await seeder(s.b).send(bob, room, 'thawed');
    });
  });

  describe('Mutation.deleteMessage by rank', () => {
    it('lets a MODERATOR delete a MEMBER’s message (deletedBy set, logged, announced) but not an ADMIN’s', async () => {
      const {
        owner,
        room,
        members: [admin, moderatorUser, bob],
      } = await roomWithRoles('ADMIN', 'MODERATOR', 'MEMBER');
      const bobs = await s.seed.send(bob, room, 'rude words');
      const admins = await s.seed.send(admin, room, 'admin words');
      const sub = roomEventsOf(s.b, owner, room);
      await sub.live();
      const DELETE = 'mutation($id: ID!) { deleteMessage(id: $id) { id body deletedAt deletedBy { id } } }';
      const deleted = await gqlOk(s.a, DELETE, { id: bobs.id }, moderatorUser.token);
      expect(deleted.deleteMessage).toMatchObject({ id: bobs.id, body: '', deletedBy: { id: moderatorUser.id } });
      expect(outcome(await gql(s.a, DELETE, { id: admins.id }, moderatorUser.token))).toBe('FORBIDDEN');
      expect(outcome(await gql(s.a, DELETE, { id: admins.id }, bob.token))).toBe('FORBIDDEN');
      // The OWNER may delete any message; one's own deletion sets no deletedBy.
      expect((await gqlOk(s.a, DELETE, { id: admins.id }, owner.token)).deleteMessage.deletedBy).toEqual({ id: owner.id });
      const own = await s.seed.send(bob, room, 'oops');
      expect((await gqlOk(s.a, DELETE, { id: own.id }, bob.token)).deleteMessage.deletedBy).toBeNull();
      await sub.until(() => actionsOf(sub).length >= 2);
      expect(actionsOf(sub).map((a) => [a.kind, a.actor.id, a.target?.id, a.message?.id])).toEqual([
        ['MESSAGE_DELETED', moderatorUser.id, bob.id, bobs.id],
        ['MESSAGE_DELETED', owner.id, admin.id, admins.id],
      ]);
    });
  });

  describe('Query.moderationLog', () => {
    it('lists every action newest first, pages with before, and answers MODERATOR and above only', async () => {
      const {
        owner,
        room,
        members: [moderatorUser, bob, carol],
      } = await roomWithRoles('MODERATOR', 'MEMBER', 'MEMBER');
      ok(await mod().mute(moderatorUser, room, bob, 60, 'first'));
      ok(await mod().kick(moderatorUser, room, carol, 'second'));
      ok(await mod().updateRoom(owner, room, { slowModeSeconds: 5 }));
      const log = (await gqlOk(s.b, LOG, { r: room.id }, moderatorUser.token)).moderationLog as Array<Action & { id: string }>;
      expect(log.map((a) => [a.kind, a.target?.id ?? null])).toEqual([
        ['ROOM_UPDATED', null],
        ['KICKED', carol.id],
        ['MUTED', bob.id],
        ['ROLE_CHANGED', moderatorUser.id],
      ]);
      expect(log[0]!.reason).toBe('slowModeSeconds: 0 -> 5');
      const page = (await gqlOk(s.b, LOG, { r: room.id, first: 2, before: log[1]!.id }, owner.token)).moderationLog;
      expect(page.map((a: Action) => a.kind)).toEqual(['MUTED', 'ROLE_CHANGED']);
      expect(codes(await gql(s.b, LOG, { r: room.id }, bob.token))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(s.b, LOG, { r: room.id, first: 101 }, owner.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(s.b, LOG, { r: room.id, first: 0 }, owner.token))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('time (an app clock the tests move)', () => {
    const clock = new TestClock();
    let a: App;
    let b: App;
    beforeAll(async () => {
      [a, b] = await Promise.all([
        s.backend.startApp({ moderation: { logRetentionDays: 90, logSweepMs: 100 } }, { clock }),
        s.backend.startApp({}, { clock }),
      ]);
    });

    it('a ban of 60 s lapses by itself', async () => {
      const seed = seeder(a);
      const [owner, bob] = await seed.users('owner', 'bob');
      const room = await seed.room(owner);
      await seed.join(bob, room);
      const banned = ok(await moderator(a).ban(owner, room, bob, 60));
      expect(Date.parse(banned.banMember.expiresAt) - Date.parse(banned.banMember.createdAt)).toBe(60_000);
      const JOIN = 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }';
      expect(outcome(await gql(b, JOIN, { r: room.id }, bob.token))).toBe('FORBIDDEN BANNED');
      clock.advanceSeconds(59);
      expect(outcome(await gql(b, JOIN, { r: room.id }, bob.token))).toBe('FORBIDDEN BANNED');
      clock.advanceSeconds(1);
      expect(outcome(await gql(b, JOIN, { r: room.id }, bob.token))).toBe('ok');
      const BANS = 'query($r: ID!) { room(id: $r) { bans { user { id } } } }';
      expect((await gqlOk(a, BANS, { r: room.id }, owner.token)).room.bans).toEqual([]);
    });

    it('a mute lapses by itself: retryAfter counts down, then the member speaks', async () => {
      const seed = seeder(a);
      const [owner, bob] = await seed.users('owner', 'bob');
      const room = await seed.room(owner);
      await seed.join(bob, room);
      ok(await moderator(a).mute(owner, room, bob, 30));
      clock.advanceSeconds(20);
      const refused = await gql(b, SEND, { i: { roomId: room.id, body: 'now?' } }, bob.token);
      expect([outcome(refused), refused.errors?.[0]?.extensions?.retryAfter]).toEqual(['FORBIDDEN MUTED', 10]);
      clock.advanceSeconds(10);
      await seeder(b).send(bob, room, 'now');
      expect((await gqlOk(b, ROOM, { r: room.id }, bob.token)).room.viewerMutedUntil).toBeNull();
    });

    it('slow mode refuses a second message within the window on the other instance and accepts a clientId repeat', async () => {
      const seed = seeder(a);
      const [owner, moderatorUser, bob] = await seed.users('owner', 'moderator', 'bob');
      const room = await seed.room(owner);
      await seed.join(moderatorUser, room);
      await seed.join(bob, room);
      ok(await moderator(a).setRole(owner, room, moderatorUser, 'MODERATOR'));
      ok(await moderator(a).updateRoom(owner, room, { slowModeSeconds: 60 }));
      const first = await seed.send(bob, room, 'one', { clientId: 'c-1' });
      clock.advanceSeconds(15);
      const second = await gql(b, SEND, { i: { roomId: room.id, body: 'two', clientId: 'c-2' } }, bob.token);
      expect([outcome(second), second.errors?.[0]?.extensions?.retryAfter]).toEqual(['RATE_LIMITED SLOW_MODE', 45]);
      // A repeat of the stored send is answered with its message, never refused.
      const repeat = await gqlOk(b, SEND, { i: { roomId: room.id, body: 'one', clientId: 'c-1' } }, bob.token);
      expect(repeat.sendMessage).toEqual({ id: first.id, seq: first.seq, body: 'one' });
      // MODERATOR and above are exempt.
      await seeder(b).send(moderatorUser, room, 'a');
      await seeder(b).send(moderatorUser, room, 'b');
      clock.advanceSeconds(45);
      const later = await seeder(b).send(bob, room, 'two', { clientId: 'c-2' });
      expect(later.seq).toBe(first.seq + 3);
    });

    it('slow mode holds against sends racing on both instances: one of them is stored', async () => {
      const seed = seeder(a);
      const [owner, bob] = await seed.users('owner', 'bob');
      const room = await seed.room(owner);
      await seed.join(bob, room);
      ok(await moderator(a).updateRoom(owner, room, { slowModeSeconds: 30 }));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => gql(i % 2 ? a : b, SEND, { i: { roomId: room.id, body: `race ${i}` } }, bob.token)),
      );
      expect(results.map(outcome).sort()).toEqual([...Array(9).fill('RATE_LIMITED SLOW_MODE'), 'ok']);
      const stored = (await gqlOk(a, MESSAGES, { r: room.id }, owner.token)).messages.edges;
      expect(stored).toHaveLength(1);
    });

    it('keeps the moderation log 90 days: older entries are neither shown nor kept', async () => {
      const seed = seeder(a);
      const [owner, bob] = await seed.users('owner', 'bob');
      const room = await seed.room(owner);
      await seed.join(bob, room);
      ok(await moderator(a).mute(owner, room, bob, 60, 'old'));
      clock.advanceSeconds(89 * 86_400);
      ok(await moderator(a).mute(owner, room, bob, 60, 'recent'));
      clock.advanceSeconds(2 * 86_400);
      const log = (await gqlOk(b, LOG, { r: room.id }, owner.token)).moderationLog as Action[];
      expect(log.map((e) => e.reason)).toEqual(['recent']);
      // The sweep (every 100 ms on instance a here) deletes the expired entry by itself.
      const { db } = await s.backend.database();
      const stored = async () =>
        (await db.select({ n: count() }).from(moderationActions).where(eq(moderationActions.roomId, room.id)))[0]!.n;
      await eventually(async () => (await stored()) === 1, 'the sweep of the expired entry');
      expect(await stored()).toBe(1);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { gql, gqlOk } from '../support/client.js';
import { outcome } from '../support/moderation.js';
import { MISSING_ID, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const BLOCK = 'mutation($u: ID!) { blockUser(userId: $u) }';
const UNBLOCK = 'mutation($u: ID!) { unblockUser(userId: $u) }';
const OPEN_DIRECT = 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }';
const INVITE = 'mutation($r: ID!, $u: ID!) { inviteToRoom(roomId: $r, userId: $u) { id } }';
const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }';

forEachBackend('Blocking', (s) => {
  const block = (app: App, by: TestUser, who: TestUser) => gqlOk(app, BLOCK, { u: who.id }, by.token);

  describe('Mutation.blockUser', () => {
    it('a blocked user cannot open a DIRECT room with the blocker', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      expect(await block(s.a, alice, bob)).toEqual({ blockUser: true });
      expect(outcome(await gql(s.b, OPEN_DIRECT, { u: alice.id }, bob.token))).toBe('FORBIDDEN BLOCKED');
      // Either way.
      expect(outcome(await gql(s.b, OPEN_DIRECT, { u: bob.id }, alice.token))).toBe('FORBIDDEN BLOCKED');
      const rooms = await gqlOk(s.a, '{ myRooms { id } }', {}, bob.token);
      expect(rooms.myRooms).toEqual([]);
    });

    it('refuses DIRECT messages in a room opened before the block, either way, until unblocked', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const room = (await gqlOk(s.a, OPEN_DIRECT, { u: bob.id }, alice.token)).openDirectRoom;
      await s.seed.send(bob, { id: room.id, name: '' }, 'hello');
      await block(s.a, alice, bob);
      const refused = await Promise.all([
        gql(s.b, SEND, { i: { roomId: room.id, body: 'are you there?' } }, bob.token),
        gql(s.b, SEND, { i: { roomId: room.id, body: 'go away' } }, alice.token),
      ]);
      expect(refused.map(outcome)).toEqual(['FORBIDDEN BLOCKED', 'FORBIDDEN BLOCKED']);
      expect(await gqlOk(s.a, UNBLOCK, { u: bob.id }, alice.token)).toEqual({ unblockUser: true });
      await s.seed.send(bob, { id: room.id, name: '' }, 'hello again');
    });

    it('refuses invitations between the two, either way', async () => {
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const alices = await s.seed.room(alice, 'PRIVATE');
      const bobs = await s.seed.room(bob, 'PRIVATE');
      await block(s.a, bob, alice);
      const results = await Promise.all([
        gql(s.b, INVITE, { r: alices.id, u: bob.id }, alice.token),
        gql(s.b, INVITE, { r: bobs.id, u: alice.id }, bob.token),
      ]);
      expect(results.map(outcome)).toEqual(['FORBIDDEN BLOCKED', 'FORBIDDEN BLOCKED']);
    });

    it("lets a blocked user's GROUP messages arrive without counting them unread for the blocker", async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      await block(s.a, alice, bob);
      await s.seed.send(bob, room, 'from bob');
      await s.seed.send(carol, room, 'from carol');
      const ROOM = 'query($r: ID!) { room(id: $r) { unreadCount } messages(roomId: $r) { edges { node { body } } } }';
      const seen = await gqlOk(s.b, ROOM, { r: room.id }, alice.token);
      expect(seen.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['from bob', 'from carol']);
      expect(seen.room.unreadCount).toBe(1);
      // The block is alice's alone: bob's own count is as before.
      expect((await gqlOk(s.b, ROOM, { r: room.id }, bob.token)).room.unreadCount).toBe(1);
    });

    it('is idempotent, lists the blocked in blockedUsers and User.blockedByViewer, and refuses oneself or nobody', async () => {
      const [alice, bob, carol] = await s.seed.users('alice', 'bob', 'carol');
      await block(s.a, alice, bob);
      await block(s.b, alice, bob);
      const LOOK =
        'query($b: ID!, $c: ID!) { blockedUsers { id } b: user(id: $b) { blockedByViewer } c: user(id: $c) { blockedByViewer } }';
      expect(await gqlOk(s.a, LOOK, { b: bob.id, c: carol.id }, alice.token)).toEqual({
        blockedUsers: [{ id: bob.id }],
        b: { blockedByViewer: true },
        c: { blockedByViewer: false },
      });
      // The blocked user sees nothing of it.
      expect(await gqlOk(s.a, LOOK, { b: alice.id, c: carol.id }, bob.token)).toMatchObject({ b: { blockedByViewer: false } });
      expect(outcome(await gql(s.a, BLOCK, { u: alice.id }, alice.token))).toBe('BAD_USER_INPUT');
      expect(outcome(await gql(s.a, BLOCK, { u: MISSING_ID }, alice.token))).toBe('NOT_FOUND');
      await gqlOk(s.a, UNBLOCK, { u: bob.id }, alice.token);
      await gqlOk(s.a, UNBLOCK, { u: bob.id }, alice.token);
      expect((await gqlOk(s.a, LOOK, { b: bob.id, c: carol.id }, alice.token)).blockedUsers).toEqual([]);
    });
  });
});

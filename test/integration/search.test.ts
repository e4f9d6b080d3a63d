import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk } from '../support/client.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import { forEachBackend } from '../support/suite.js';

const SEARCH = `query($q: String!, $r: ID, $first: Int) {
  searchMessages(query: $q, roomId: $r, first: $first) { id roomId seq body deletedAt author { id } }
}`;
const DELETE = 'mutation($id: ID!) { deleteMessage(id: $id) { id deletedAt } }';

interface Found {
  id: string;
  roomId: string;
  seq: number;
  body: string;
  deletedAt: string | null;
  author: { id: string };
}

/**
 * A word no other test uses (the database is shared within a file): letters
 * only, so the parser keeps it one token, ending in 'x' so stemming leaves it as it is.
 */
const word = () => `q${[...randomBytes(8)].map((b) => String.fromCharCode(97 + (b % 26))).join('')}x`;

forEachBackend('Query.searchMessages', (s) => {
  const search = async (
    viewer: TestUser,
    q: string,
    extra: { r?: string; first?: number | null } = {},
    app = s.a,
  ): Promise<Found[]> => (await gqlOk(app, SEARCH, { q, ...extra }, viewer.token)).searchMessages;
  const bodies = (found: Found[]) => found.map((m) => m.body);

  describe('matching and ranking', () => {
    it('finds messages of every room of the viewer, with their fields, and none that do not match', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const other = await s.seed.room(bob);
      await s.seed.invite(bob, other, alice);
      const w = word();
      const first = await s.seed.send(bob, room, `hello ${w} there`);
      await s.seed.send(bob, room, 'nothing to see');
      const second = await s.seed.send(alice, other, `${w}!`);
      const found = await search(alice, w, {}, s.b);
      expect(found.map((m) => m.id).sort()).toEqual([first.id, second.id].sort());
      expect(found.find((m) => m.id === first.id)).toEqual({
        id: first.id,
        roomId: room.id,
        seq: 1,
        body: `hello ${w} there`,
        deletedAt: null,
        author: { id: bob.id },
      });
    });

    it('puts the message that matches better first, ahead of a newer one', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const [w, v] = [word(), word()];
      await s.seed.send(alice, room, `${w} ${v} ${w} ${v} ${w} ${v}`); // seq 1: the best match
      await s.seed.send(alice, room, `${w} and then ${v}`); // seq 2
      await s.seed.send(alice, room, `${w} alone`); // seq 3: not both words
      expect(bodies(await search(alice, `${w} ${v}`))).toEqual([`${w} ${v} ${w} ${v} ${w} ${v}`, `${w} and then ${v}`]);
      // OR: every message with either word, the one that has only one of them last.
      expect(bodies(await search(alice, `${w} or ${v}`))).toEqual([
        `${w} ${v} ${w} ${v} ${w} ${v}`,
        `${w} and then ${v}`,
        `${w} alone`,
      ]);
    });

    it('lists equally good matches newest first', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const w = word();
      await s.seed.send(alice, room, `one ${w}`);
      await s.seed.send(bob, room, `two ${w}`);
      await s.seed.send(alice, room, `three ${w}`);
      expect((await search(bob, w)).map((m) => [m.seq, m.body])).toEqual([
        [3, `three ${w}`],
        [2, `two ${w}`],
        [1, `one ${w}`],
      ]);
    });

    it("finds other forms of a word through English stemming: 'running' finds 'run'", async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const w = word();
      await s.seed.send(alice, room, `${w} is running late`);
      await s.seed.send(alice, room, `${w} has two connections`);
      expect(bodies(await search(alice, 'run', { r: room.id }))).toEqual([`${w} is running late`]);
      expect(bodies(await search(alice, `${w} runs`))).toEqual([`${w} is running late`]);
      expect(bodies(await search(alice, `${w} connected`))).toEqual([`${w} has two connections`]);
      expect(bodies(await search(alice, `${w} RUNNING`))).toEqual([`${w} is running late`]);
    });

    it('understands web search syntax: "phrases" and -excluded words', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const w = word();
      await s.seed.send(alice, room, `${w} blue sky`);
      await s.seed.send(alice, room, `${w} sky blue`);
      expect(bodies(await search(alice, `"${w} blue sky"`))).toEqual([`${w} blue sky`]);
      expect(bodies(await search(alice, `${w} -"blue sky"`))).toEqual([`${w} sky blue`]);
    });

    it('finds nothing for a blank query or one of stop words only', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      await s.seed.send(alice, room, 'the and of');
      expect(await search(alice, '   \n\t')).toEqual([]);
      expect(await search(alice, 'the', { r: room.id })).toEqual([]);
      expect(await search(alice, '"" - OR', { r: room.id })).toEqual([]);
    });

    it('never finds a deleted message', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const w = word();
      const gone = await s.seed.send(bob, room, `${w} secret`);
      const kept = await s.seed.send(bob, room, `${w} public`);
      expect((await search(alice, w)).map((m) => m.id)).toEqual([kept.id, gone.id]);
      const deleted = await gqlOk(s.a, DELETE, { id: gone.id }, bob.token);
      expect(deleted.deleteMessage.deletedAt).not.toBeNull();
      expect((await search(alice, w)).map((m) => m.id)).toEqual([kept.id]);
      expect(await search(alice, `${w} secret`, {}, s.b)).toEqual([]);
      expect(await search(bob, 'secret', { r: room.id })).toEqual([]);
    });
  });

  describe('which rooms', () => {
    it('never searches a room the viewer is not a member of, even when its text matches', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const carol = await s.seed.user('carol');
      const carols: TestRoom = await s.seed.room(carol); // PUBLIC, and alice could join it: still not searched
      const w = word();
      const mine = await s.seed.send(alice, room, `${w} in our room`);
      await s.seed.send(carol, carols, `${w} in carol's room`);
      expect((await search(alice, w)).map((m) => m.id)).toEqual([mine.id]);
      expect(bodies(await search(carol, w))).toEqual([`${w} in carol's room`]);
      const stranger = await s.seed.user('stranger');
      expect(await search(stranger, w)).toEqual([]);
      // bob loses the room's messages when he leaves.
      expect((await search(bob, w)).map((m) => m.id)).toEqual([mine.id]);
      await s.seed.leave(bob, room);
      expect(await search(bob, w)).toEqual([]);
    });

    it('with roomId: searches that room only', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const other = await s.seed.room(alice);
      const w = word();
      const here = await s.seed.send(bob, room, `${w} here`);
      const there = await s.seed.send(alice, other, `${w} there`);
      expect((await search(alice, w, { r: room.id })).map((m) => m.id)).toEqual([here.id]);
      expect((await search(alice, w, { r: other.id.toUpperCase() })).map((m) => m.id)).toEqual([there.id]);
      expect((await search(alice, w, { r: null as unknown as string })).length).toBe(2);
    });

    it('with roomId of a room the viewer is not a member of: FORBIDDEN, also for a PUBLIC room whose text matches', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const w = word();
      await s.seed.send(alice, room, w);
      const stranger = await s.seed.user('stranger');
      const result = await gql(s.a, SEARCH, { q: w, r: room.id }, stranger.token);
      expect(codes(result)).toEqual(['FORBIDDEN']);
      expect(result.data ?? null).toBeNull();
      // A blank query changes nothing about who may search the room.
      expect(codes(await gql(s.a, SEARCH, { q: ' ', r: room.id }, stranger.token))).toEqual(['FORBIDDEN']);
    });

    it('with roomId of an unknown room, or one that is not a uuid: NOT_FOUND', async () => {
      const alice = await s.seed.user('alice');
      expect(codes(await gql(s.a, SEARCH, { q: 'hello', r: MISSING_ID }, alice.token))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(s.a, SEARCH, { q: 'hello', r: 'nope' }, alice.token))).toEqual(['NOT_FOUND']);
    });
  });

  describe('first', () => {
    it('returns 20 by default and `first` when given, best and newest first; 0 returns none', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const w = word();
      for (let i = 1; i <= 25; i++) await s.seed.send(alice, room, `${w} number ${i}`);
      const all = Array.from({ length: 25 }, (_, i) => 25 - i);
      expect((await search(alice, w)).map((m) => m.seq)).toEqual(all.slice(0, 20));
      expect((await search(alice, w, { first: null })).map((m) => m.seq)).toEqual(all.slice(0, 20));
      expect((await search(alice, w, { first: 5 })).map((m) => m.seq)).toEqual([25, 24, 23, 22, 21]);
      expect((await search(alice, w, { first: 25 })).map((m) => m.seq)).toEqual(all);
      expect(await search(alice, w, { first: 0 })).toEqual([]);
    });

    it('cuts large values to 100 instead of refusing them', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const w = word();
      for (let i = 1; i <= 101; i++) await s.seed.send(alice, room, `${w} ${i}`);
      const found = await search(alice, w, { first: 2_147_483_647 });
      expect(found.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 101 - i));
    });

    it('refuses a negative first with BAD_USER_INPUT', async () => {
      const alice = await s.seed.user('alice');
      const result = await gql(s.a, SEARCH, { q: 'hello', first: -1 }, alice.token);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.field).toBe('first');
      expect(result.data ?? null).toBeNull();
    });
  });

  it('refuses a caller without a token with UNAUTHENTICATED', async () => {
    const result = await gql(s.a, SEARCH, { q: 'hello' });
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.data ?? null).toBeNull();
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, type GqlResult } from '../support/client.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) {
    id seq roomId room { id } author { id username } body clientId
    createdAt editedAt deletedAt reactions { emoji count } cursor replyTo { id body }
  }
}`;

const HISTORY = `query($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  messages(roomId: $roomId, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id seq body cursor } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface PageArgs {
  first?: number;
  after?: string | null;
  last?: number;
  before?: string | null;
}
interface Page {
  edges: Array<{ cursor: string; node: { id: string; seq: number; body: string; cursor: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function send(app: App, user: TestUser | null, input: Record<string, unknown>): Promise<GqlResult> {
  return gql(app, SEND, { input }, user?.token);
}

async function sendOk(app: App, user: TestUser, input: Record<string, unknown>) {
  return (await gqlOk(app, SEND, { input }, user.token)).sendMessage;
}

function history(app: App, user: TestUser, roomId: string, args: PageArgs = {}): Promise<GqlResult<{ messages: Page }>> {
  return gql(app, HISTORY, { roomId, ...args }, user.token);
}

async function page(app: App, user: TestUser, roomId: string, args: PageArgs = {}): Promise<Page & { seqs: number[] }> {
  const { messages } = await gqlOk<{ messages: Page }>(app, HISTORY, { roomId, ...args }, user.token);
  return { ...messages, seqs: messages.edges.map((e) => e.node.seq) };
}

forEachBackend('Messages', (s) => {
  describe('Mutation.sendMessage', () => {
    it('returns the stored message with seq 1 and every field of the contract', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const before = Date.now();
      const result = await send(s.a, alice, { roomId: room.id, body: 'hello', clientId: 'c-1' });
      expect(result.errors).toBeUndefined();
      const message = result.data.sendMessage;
      expect(message).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/i),
        seq: 1,
        roomId: room.id,
        room: { id: room.id },
        author: { id: alice.id, username: alice.username },
        body: 'hello',
        clientId: 'c-1',
        createdAt: expect.stringMatching(ISO_UTC_MS),
        editedAt: null,
        deletedAt: null,
        reactions: [],
        cursor: expect.any(String),
        replyTo: null,
      });
      expect(message.cursor.length).toBeGreaterThan(0);
      const createdAt = Date.parse(message.createdAt);
      expect(createdAt).toBeGreaterThanOrEqual(before - 60_000);
      expect(createdAt).toBeLessThanOrEqual(Date.now() + 60_000);
    });

    it('numbers messages 1, 2, 3 … per room, each room independently', async () => {
      const alice = await s.seed.user('alice');
      const [r1, r2] = await Promise.all([s.seed.room(alice), s.seed.room(alice)]);
      const seqs: Array<[string, number]> = [];
      for (const [room, body] of [
        [r1, 'a'],
        [r2, 'b'],
        [r1, 'c'],
        [r1, 'd'],
        [r2, 'e'],
        [r1, 'f'],
      ] as Array<[TestRoom, string]>) {
        const m = await sendOk(s.a, alice, { roomId: room.id, body });
        seqs.push([m.body, m.seq]);
      }
      expect(seqs).toEqual([
        ['a', 1],
        ['b', 1],
        ['c', 2],
        ['d', 3],
        ['e', 2],
        ['f', 4],
      ]);
    });

    it('continues the same seq sequence whichever instance a message is sent through', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const seqs = [
        (await sendOk(s.a, alice, { roomId: room.id, body: '1' })).seq,
        (await sendOk(s.b, bob, { roomId: room.id, body: '2' })).seq,
        (await sendOk(s.b, alice, { roomId: room.id, body: '3' })).seq,
        (await sendOk(s.a, bob, { roomId: room.id, body: '4' })).seq,
      ];
      expect(seqs).toEqual([1, 2, 3, 4]);
    });

    it('refuses an empty body and a body of only whitespace with BAD_USER_INPUT, spending no seq', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      for (const body of ['', '  \n\t']) {
        const result = await send(s.a, alice, { roomId: room.id, body });
        expect(codes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.data).toBeNull();
      }
      expect((await sendOk(s.a, alice, { roomId: room.id, body: 'first real one' })).seq).toBe(1);
    });

    it('accepts a body of 4000 code points (8000 UTF-16 units) and refuses 4001 with BAD_USER_INPUT', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const max = '😀'.repeat(4000);
      expect(max.length).toBe(8000);
      const ok = await sendOk(s.a, alice, { roomId: room.id, body: max });
      expect(ok.body).toBe(max);
      expect(ok.seq).toBe(1);
      const tooLong = await send(s.a, alice, { roomId: room.id, body: '😀'.repeat(4001) });
      expect(codes(tooLong)).toEqual(['BAD_USER_INPUT']);
      expect(tooLong.data).toBeNull();
      const asciiTooLong = await send(s.a, alice, { roomId: room.id, body: 'x'.repeat(4001) });
      expect(codes(asciiTooLong)).toEqual(['BAD_USER_INPUT']);
      expect((await sendOk(s.a, alice, { roomId: room.id, body: 'x'.repeat(4000) })).seq).toBe(2);
    });

    it('refuses a body containing a NUL character with BAD_USER_INPUT, not an internal error', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const result = await send(s.a, alice, { roomId: room.id, body: 'before\u0000after' });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.data).toBeNull();
      expect((await sendOk(s.a, alice, { roomId: room.id, body: 'clean' })).seq).toBe(1);
    });

    it('accepts a clientId of 1 to 64 characters and refuses an empty one or one of 65 with BAD_USER_INPUT', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      for (const clientId of ['', 'k'.repeat(65), '😀'.repeat(65)]) {
        const result = await send(s.a, alice, { roomId: room.id, body: 'hi', clientId });
        expect(codes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.data).toBeNull();
      }
      const one = await sendOk(s.a, alice, { roomId: room.id, body: 'one', clientId: 'k' });
      const sixtyFour = await sendOk(s.a, alice, { roomId: room.id, body: 'sixty-four', clientId: '😀'.repeat(64) });
      expect([one.seq, one.clientId]).toEqual([1, 'k']);
      expect([sixtyFour.seq, sixtyFour.clientId]).toEqual([2, '😀'.repeat(64)]);
    });

    it('returns the first message for a repeated clientId of the same author in the same room, on either instance, and leaves no seq gap', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const first = await sendOk(s.a, alice, { roomId: room.id, body: 'original', clientId: 'retry-1' });
      const againA = await sendOk(s.a, alice, { roomId: room.id, body: 'original', clientId: 'retry-1' });
      const againB = await sendOk(s.b, alice, { roomId: room.id, body: 'changed on retry', clientId: 'retry-1' });
      expect(first.seq).toBe(1);
      for (const again of [againA, againB]) {
        expect(again).toEqual(first);
      }
      const next = await sendOk(s.a, alice, { roomId: room.id, body: 'next' });
      expect(next.seq).toBe(2);
      const all = await page(s.a, alice, room.id);
      expect(all.edges.map((e) => [e.node.seq, e.node.body])).toEqual([
        [1, 'original'],
        [2, 'next'],
      ]);
    });

    it('treats the same clientId from another author or in another room as a different message', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const other = await s.seed.room(alice);
      const mine = await sendOk(s.a, alice, { roomId: room.id, body: 'alice', clientId: 'shared' });
      const bobs = await sendOk(s.a, bob, { roomId: room.id, body: 'bob', clientId: 'shared' });
      const elsewhere = await sendOk(s.a, alice, { roomId: other.id, body: 'elsewhere', clientId: 'shared' });
      expect(new Set([mine.id, bobs.id, elsewhere.id]).size).toBe(3);
      expect([mine.seq, mine.body, mine.author.id]).toEqual([1, 'alice', alice.id]);
      expect([bobs.seq, bobs.body, bobs.author.id]).toEqual([2, 'bob', bob.id]);
      expect([elsewhere.seq, elsewhere.body, elsewhere.roomId]).toEqual([1, 'elsewhere', other.id]);
    });

    it('links replyToId to a message of the same room as replyTo', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const original = await s.seed.send(alice, room, 'question?');
      const reply = await sendOk(s.b, bob, { roomId: room.id, body: 'answer', replyToId: original.id });
      expect(reply.replyTo).toEqual({ id: original.id, body: 'question?' });
      expect(reply.seq).toBe(2);
    });

    it('refuses replyToId of a message of another room with BAD_USER_INPUT', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const other = await s.seed.room(alice);
      const foreign = await s.seed.send(alice, other, 'over there');
      const result = await send(s.a, alice, { roomId: room.id, body: 'reply', replyToId: foreign.id });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.data).toBeNull();
      expect((await sendOk(s.a, alice, { roomId: room.id, body: 'plain' })).seq).toBe(1);
    });

    it('refuses replyToId of a message that does not exist with NOT_FOUND', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      for (const replyToId of [MISSING_ID, 'not-a-uuid']) {
        const result = await send(s.a, alice, { roomId: room.id, body: 'reply', replyToId });
        expect(codes(result)).toEqual(['NOT_FOUND']);
        expect(result.data).toBeNull();
      }
    });

    it('refuses a non-member with FORBIDDEN, in a PUBLIC and in a PRIVATE room', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const secret = await s.seed.room(alice, 'PRIVATE');
      const stranger = await s.seed.user('stranger');
      for (const r of [room, secret]) {
        const result = await send(s.a, stranger, { roomId: r.id, body: 'let me in' });
        expect(codes(result)).toEqual(['FORBIDDEN']);
        expect(result.data).toBeNull();
      }
      expect((await sendOk(s.a, alice, { roomId: room.id, body: 'members only' })).seq).toBe(1);
    });

    it('refuses an unknown room and a roomId that is not a uuid with NOT_FOUND', async () => {
      const alice = await s.seed.user('alice');
      for (const roomId of [MISSING_ID, 'not-a-uuid']) {
        const result = await send(s.a, alice, { roomId, body: 'anyone?' });
        expect(codes(result)).toEqual(['NOT_FOUND']);
        expect(result.data).toBeNull();
      }
    });

    it('refuses a request without a token with UNAUTHENTICATED', async () => {
      const { room } = await s.seed.roomWithTwoMembers();
      const result = await send(s.a, null, { roomId: room.id, body: 'anonymous' });
      expect(codes(result)).toEqual(['UNAUTHENTICATED']);
      expect(result.data).toBeNull();
    });
  });

  describe('Query.messages', () => {
    // A room with 7 messages m1..m7, and one with 250.
    let alice: TestUser;
    let bob: TestUser;
    let room: TestRoom;
    let big: TestRoom;

    beforeAll(async () => {
      ({ alice, bob, room } = await s.seed.roomWithTwoMembers());
      big = await s.seed.room(alice);
      for (let i = 1; i <= 7; i++) await s.seed.send(alice, room, `m${i}`);
      for (let batch = 0; batch < 25; batch++) {
        await Promise.all(range(1, 10).map((i) => s.seed.send(alice, big, `big ${batch * 10 + i}`)));
      }
    }, 60_000);

    it('returns the newest 50, oldest first, when neither first nor last is given', async () => {
      const p = await page(s.a, alice, big.id);
      expect(p.seqs).toEqual(range(201, 250));
      expect(p.pageInfo).toEqual({
        hasNextPage: false,
        hasPreviousPage: true,
        startCursor: p.edges[0]!.cursor,
        endCursor: p.edges[49]!.cursor,
      });
    });

    it('returns the whole history, oldest first, when it holds fewer than 50 and no count is given', async () => {
      const p = await page(s.b, bob, room.id);
      expect(p.edges.map((e) => [e.node.seq, e.node.body])).toEqual(range(1, 7).map((i) => [i, `m${i}`]));
      expect(p.pageInfo.hasNextPage).toBe(false);
      expect(p.pageInfo.hasPreviousPage).toBe(false);
    });

    it('pages forward with first/after: 1-3, then 4-6, then 7 and no next page', async () => {
      const p1 = await page(s.a, alice, room.id, { first: 3 });
      expect(p1.seqs).toEqual([1, 2, 3]);
      expect(p1.edges.map((e) => e.node.body)).toEqual(['m1', 'm2', 'm3']);
      expect(p1.pageInfo).toEqual({
        hasNextPage: true,
        hasPreviousPage: false,
        startCursor: p1.edges[0]!.cursor,
        endCursor: p1.edges[2]!.cursor,
      });

      const p2 = await page(s.b, alice, room.id, { first: 3, after: p1.pageInfo.endCursor });
      expect(p2.seqs).toEqual([4, 5, 6]);
      expect(p2.pageInfo).toEqual({
        hasNextPage: true,
        hasPreviousPage: true,
        startCursor: p2.edges[0]!.cursor,
        endCursor: p2.edges[2]!.cursor,
      });

      const p3 = await page(s.a, alice, room.id, { first: 3, after: p2.pageInfo.endCursor });
      expect(p3.seqs).toEqual([7]);
      expect(p3.pageInfo).toEqual({
        hasNextPage: false,
        hasPreviousPage: true,
        startCursor: p3.edges[0]!.cursor,
        endCursor: p3.edges[0]!.cursor,
      });
    });

    it('pages backward with last/before: 5-7 oldest first, then 2-4', async () => {
      const p1 = await page(s.a, alice, room.id, { last: 3 });
      expect(p1.seqs).toEqual([5, 6, 7]);
      expect(p1.edges.map((e) => e.node.body)).toEqual(['m5', 'm6', 'm7']);
      expect(p1.pageInfo).toEqual({
        hasNextPage: false,
        hasPreviousPage: true,
        startCursor: p1.edges[0]!.cursor,
        endCursor: p1.edges[2]!.cursor,
      });

      const p2 = await page(s.b, alice, room.id, { last: 3, before: p1.pageInfo.startCursor });
      expect(p2.seqs).toEqual([2, 3, 4]);
      expect(p2.pageInfo).toEqual({
        hasNextPage: true,
        hasPreviousPage: true,
        startCursor: p2.edges[0]!.cursor,
        endCursor: p2.edges[2]!.cursor,
      });
    });

    it('returns every message before the cursor when last asks for more than there are', async () => {
      const all = await page(s.a, alice, room.id);
      const p = await page(s.a, alice, room.id, { last: 5, before: all.edges[3]!.cursor });
      expect(p.seqs).toEqual([1, 2, 3]);
      expect(p.pageInfo.hasPreviousPage).toBe(false);
      expect(p.pageInfo.hasNextPage).toBe(true);
      const whole = await page(s.a, alice, room.id, { last: 10 });
      expect(whole.seqs).toEqual(range(1, 7));
      expect(whole.pageInfo.hasPreviousPage).toBe(false);
    });

    it('gives each edge the cursor of its node, and the page its first and last edge cursors', async () => {
      for (const args of [{}, { first: 4 }, { last: 4 }] as PageArgs[]) {
        const p = await page(s.a, alice, room.id, args);
        expect(p.edges.length).toBeGreaterThan(0);
        for (const edge of p.edges) expect(edge.cursor).toBe(edge.node.cursor);
        expect(p.pageInfo.startCursor).toBe(p.edges[0]!.cursor);
        expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)!.cursor);
      }
    });

    it('returns an empty page with null start and end cursors for first: 0 and after the last message', async () => {
      const none = await page(s.a, alice, room.id, { first: 0 });
      expect(none.edges).toEqual([]);
      expect(none.pageInfo.startCursor).toBeNull();
      expect(none.pageInfo.endCursor).toBeNull();

      const newest = await page(s.a, alice, room.id, { last: 1 });
      const past = await page(s.a, alice, room.id, { first: 3, after: newest.pageInfo.endCursor });
      expect(past.edges).toEqual([]);
      expect(past.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
    });

    it('yields every seq exactly once, in order, walking the whole history forward or backward', async () => {
      for (const size of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const forward: number[] = [];
        let after: string | null = null;
        for (let guard = 0; guard < 20; guard++) {
          const p: Page & { seqs: number[] } = await page(s.a, alice, room.id, { first: size, after });
          forward.push(...p.seqs);
          after = p.pageInfo.endCursor;
          if (!p.pageInfo.hasNextPage) break;
        }
        expect(forward, `first: ${size}`).toEqual(range(1, 7));

        const backward: number[][] = [];
        let before: string | null = null;
        for (let guard = 0; guard < 20; guard++) {
          const p: Page & { seqs: number[] } = await page(s.a, alice, room.id, { last: size, before });
          backward.unshift(p.seqs);
          before = p.pageInfo.startCursor;
          if (!p.pageInfo.hasPreviousPage) break;
        }
        expect(backward.flat(), `last: ${size}`).toEqual(range(1, 7));
      }
    });

    it('accepts first: 200 and last: 200, and refuses 201 with BAD_USER_INPUT', async () => {
      const first = await page(s.a, alice, big.id, { first: 200 });
      expect(first.seqs).toEqual(range(1, 200));
      expect(first.pageInfo.hasNextPage).toBe(true);
      const last = await page(s.a, alice, big.id, { last: 200 });
      expect(last.seqs).toEqual(range(51, 250));
      expect(last.pageInfo.hasPreviousPage).toBe(true);
      for (const args of [{ first: 201 }, { last: 201 }]) {
        const result = await history(s.a, alice, big.id, args);
        expect(codes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.data).toBeNull();
      }
    });

    it('refuses first and last together, and a negative first or last, with BAD_USER_INPUT', async () => {
      for (const args of [{ first: 2, last: 2 }, { first: -1 }, { last: -1 }] as PageArgs[]) {
        const result = await history(s.a, alice, room.id, args);
        expect(codes(result), JSON.stringify(args)).toEqual(['BAD_USER_INPUT']);
        expect(result.data).toBeNull();
      }
    });

    it('refuses a malformed cursor with BAD_USER_INPUT', async () => {
      const forged = Buffer.from(`v1:${room.id}:abc`, 'utf8').toString('base64url');
      for (const cursor of ['not-a-cursor', '!!!', forged]) {
        for (const args of [
          { first: 2, after: cursor },
          { last: 2, before: cursor },
        ] as PageArgs[]) {
          const result = await history(s.a, alice, room.id, args);
          expect(codes(result), JSON.stringify(args)).toEqual(['BAD_USER_INPUT']);
          expect(result.data).toBeNull();
        }
      }
    });

    it('refuses a cursor taken from another room with BAD_USER_INPUT', async () => {
      const foreign = await page(s.a, alice, big.id, { first: 3 });
      for (const args of [
        { first: 2, after: foreign.pageInfo.endCursor },
        { last: 2, before: foreign.pageInfo.endCursor },
      ] as PageArgs[]) {
        const result = await history(s.a, alice, room.id, args);
        expect(codes(result), JSON.stringify(args)).toEqual(['BAD_USER_INPUT']);
        expect(result.data).toBeNull();
      }
    });

    it('refuses a non-member of a PUBLIC room with FORBIDDEN', async () => {
      const stranger = await s.seed.user('stranger');
      const result = await history(s.a, stranger, room.id);
      expect(codes(result)).toEqual(['FORBIDDEN']);
      expect(result.data).toBeNull();
    });

    it('refuses an unknown room and a roomId that is not a uuid with NOT_FOUND', async () => {
      for (const roomId of [MISSING_ID, 'not-a-uuid']) {
        const result = await history(s.a, alice, roomId);
        expect(codes(result)).toEqual(['NOT_FOUND']);
        expect(result.data).toBeNull();
      }
    });

    it('refuses a request without a token with UNAUTHENTICATED', async () => {
      const result = await gql(s.a, HISTORY, { roomId: room.id });
      expect(codes(result)).toEqual(['UNAUTHENTICATED']);
      expect(result.data).toBeNull();
    });
  });
});

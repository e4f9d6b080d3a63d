import { beforeAll, describe, expect, it } from 'vitest';
import { gqlOk } from '../support/client.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import { MessagesStore } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

/**
 * The statement that commits a busy room's concurrent sends together, as SQL
 * on each driver: which of a burst lands in one statement depends on timing,
 * so what it does with repeats, strangers and read positions is pinned here
 * with batches put together by hand. The burst through HTTP is in
 * concurrency.test.ts.
 */
const HISTORY = 'query($r: ID!) { messages(roomId: $r, first: 200) { edges { node { seq body clientId author { id } } } } }';
const READ_STATE = 'query($id: ID!) { room(id: $id) { lastReadSeq unreadCount } }';

forEachBackend('MessagesStore.insertMany', (s) => {
  let store: MessagesStore;
  beforeAll(async () => {
    store = new MessagesStore((await s.backend.database()).db);
  });

  const message = (
    author: TestUser,
    room: TestRoom,
    body: string,
    clientId: string | null = null,
    replyToId: string | null = null,
  ) => ({
    roomId: room.id,
    authorId: author.id,
    body,
    clientId,
    replyToId,
  });
  const history = async (viewer: TestUser, room: TestRoom) =>
    (await gqlOk(s.a, HISTORY, { r: room.id }, viewer.token)).messages.edges.map(
      (e: { node: { seq: number; body: string; clientId: string | null; author: { id: string } } }) => [
        e.node.seq,
        e.node.body,
        e.node.clientId,
        e.node.author.id,
      ],
    );

  describe('a batch of new messages', () => {
    it('gives them consecutive seqs in the order given, after those already there', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.send(alice, room, 'before');
      const outcomes = await store.insertMany(room.id, [
        message(bob, room, 'one', 'b-1'),
        message(alice, room, 'two'),
        message(bob, room, 'three'),
      ]);
      expect(outcomes.map((o) => (o.kind === 'inserted' ? [o.message.seq, o.message.body, o.message.authorId] : o.kind))).toEqual(
        [
          [2, 'one', bob.id],
          [3, 'two', alice.id],
          [4, 'three', bob.id],
        ],
      );
      const first = outcomes[0]!;
      expect(first.kind === 'inserted' && first.message).toMatchObject({
        roomId: room.id,
        clientId: 'b-1',
        replyToId: null,
        editedAt: null,
        deletedAt: null,
      });
      expect(first.kind === 'inserted' && first.message.createdAt).toBeInstanceOf(Date);
      expect(await history(alice, room)).toEqual([
        [1, 'before', null, alice.id],
        [2, 'one', 'b-1', bob.id],
        [3, 'two', null, alice.id],
        [4, 'three', null, bob.id],
      ]);
      // The next message continues after the batch.
      expect((await s.seed.send(bob, room, 'after')).seq).toBe(5);
    });

    it("moves each author's read position to their newest message of the batch", async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      await store.insertMany(room.id, [
        message(alice, room, 'a1'),
        message(bob, room, 'b1'),
        message(alice, room, 'a2'),
        message(bob, room, 'b2'),
      ]);
      const state = async (viewer: TestUser) => (await gqlOk(s.a, READ_STATE, { id: room.id }, viewer.token)).room;
      expect(await state(alice)).toEqual({ lastReadSeq: 3, unreadCount: 1 });
      expect(await state(bob)).toEqual({ lastReadSeq: 4, unreadCount: 0 });
      expect(await state(carol)).toEqual({ lastReadSeq: 0, unreadCount: 4 });
    });

    it('keeps replies', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const question = await s.seed.send(alice, room, 'question?');
      const [answer] = await store.insertMany(room.id, [
        message(bob, room, 'answer', null, question.id),
        message(bob, room, 'more'),
      ]);
      expect(answer!.kind === 'inserted' && answer!.message.replyToId).toBe(question.id);
    });

    it('takes any number of messages: the batch is one parameter', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      // Five values a message: one parameter each would pass postgres.js' limit of 65,534.
      const count = 14_000;
      const outcomes = await store.insertMany(
        room.id,
        Array.from({ length: count }, (_, i) => message(alice, room, `m${i}`, `c${i}`)),
      );
      expect(outcomes.every((o, i) => o.kind === 'inserted' && o.message.seq === i + 1)).toBe(true);
    }, 60_000);

    it('stores a lone surrogate as U+FFFD, as a message sent alone is stored', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const alone = await store.insert(message(alice, room, 'half \ud83d of an emoji'));
      const [batched] = await store.insertMany(room.id, [
        message(alice, room, 'half \ud83d of an emoji'),
        message(alice, room, 'x'),
      ]);
      expect(alone.kind === 'inserted' && alone.message.body).toBe('half \ufffd of an emoji');
      expect(batched!.kind === 'inserted' && batched!.message.body).toBe('half \ufffd of an emoji');
    });
  });

  describe('repeated clientIds', () => {
    it('answers a clientId the author already sent with the stored message, taking no seq', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const stored = await s.seed.send(alice, room, 'original', { clientId: 'k' });
      const outcomes = await store.insertMany(room.id, [
        message(alice, room, 'retry', 'k'),
        message(bob, room, 'same clientId, other author', 'k'),
      ]);
      expect(
        outcomes.map((o) => (o.kind === 'rejected' ? o.kind : [o.kind, o.message.id, o.message.seq, o.message.body])),
      ).toEqual([
        ['duplicate', stored.id, 1, 'original'],
        ['inserted', expect.any(String), 2, 'same clientId, other author'],
      ]);
    });

    it('answers a clientId repeated later in the batch with the message of its first occurrence, which alone takes a seq', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const outcomes = await store.insertMany(room.id, [
        message(alice, room, 'first', 'k'),
        message(bob, room, 'other'),
        message(alice, room, 'first, again', 'k'),
        message(alice, room, 'third time', 'k'),
        message(alice, room, 'next'),
      ]);
      const [first, other, again, third, next] = outcomes;
      expect(first!.kind === 'inserted' && [first!.message.seq, first!.message.body]).toEqual([1, 'first']);
      for (const repeat of [again!, third!]) {
        expect(repeat.kind).toBe('duplicate');
        expect(repeat.kind !== 'rejected' && repeat.message).toEqual(first!.kind !== 'rejected' && first!.message);
      }
      expect([other, next].map((o) => o!.kind !== 'rejected' && [o!.kind, o!.message.seq])).toEqual([
        ['inserted', 2],
        ['inserted', 3],
      ]);
      expect((await history(alice, room)).map(([seq, body]: [number, string]) => [seq, body])).toEqual([
        [1, 'first'],
        [2, 'other'],
        [3, 'next'],
      ]);
    });

    it('leaves the read position where it was when all of an author’s messages were repeats', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      await s.seed.send(alice, room, 'original', { clientId: 'k' });
      await s.seed.send(bob, room, 'reply');
      await store.insertMany(room.id, [message(alice, room, 'retry', 'k'), message(bob, room, 'more')]);
      expect((await gqlOk(s.a, READ_STATE, { id: room.id }, alice.token)).room).toEqual({ lastReadSeq: 1, unreadCount: 2 });
    });
  });

  describe('authors who are not members', () => {
    it('rejects their messages and commits the others', async () => {
      const { alice, bob, dave, room } = await s.seed.roomOfThree();
      const outcomes = await store.insertMany(room.id, [
        message(alice, room, 'one'),
        message(dave, room, 'let me in'),
        message(bob, room, 'two'),
      ]);
      expect(outcomes.map((o) => (o.kind === 'rejected' ? 'rejected' : o.message.seq))).toEqual([1, 'rejected', 2]);
    });

    it('bumps nothing when every message is rejected, in a room or in one that does not exist', async () => {
      const { alice, dave, room } = await s.seed.roomOfThree();
      expect(await store.insertMany(room.id, [message(dave, room, 'no'), message(dave, room, 'still no')])).toEqual([
        { kind: 'rejected' },
        { kind: 'rejected' },
      ]);
      const missing = { id: MISSING_ID, name: 'none' };
      expect(await store.insertMany(MISSING_ID, [message(alice, missing, 'where?'), message(alice, missing, 'anyone?')])).toEqual(
        [{ kind: 'rejected' }, { kind: 'rejected' }],
      );
      expect((await s.seed.send(alice, room, 'first')).seq).toBe(1);
    });
  });
});

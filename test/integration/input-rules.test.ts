import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { MISSING_ID, PASSWORD, seeder, uniqueName, type TestRoom, type TestUser } from '../support/seed.js';
import { MessagesStore } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const SEARCH = 'query($q: String!, $r: ID) { searchMessages(query: $q, roomId: $r) { id body } }';
const HISTORY =
  'query($r: ID!, $after: String, $before: String) { messages(roomId: $r, first: 10, after: $after, before: $before) { edges { node { seq } } } }';
const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id body clientId } }';
const MEMBERS = 'query($id: ID!) { room(id: $id) { members { user { id } lastReadSeq } } }';

/** A cursor as the server makes them, for any seq: what a client could forge. */
const forgedCursor = (room: TestRoom, seq: number | string) => Buffer.from(`v1:${room.id}:${seq}`, 'utf8').toString('base64url');
const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDFFF';

/**
 * The rules every input is held to before it reaches SQL: sizes that bound
 * a query's cost, integers that fit the columns, text that is well-formed,
 * and what a non-member may see. Each refusal is BAD_USER_INPUT, and the
 * server goes on answering (on the embedded backend, the search and cursor
 * cases once broke PGlite for good).
 */
forEachBackend('Input rules', (s) => {
  const connect = trackedClients();
  const healthy = async () => {
    expect((await fetch(`${s.a.url}/healthz`)).status).toBe(200);
  };

  describe('Query.searchMessages: query of 1-256 characters', () => {
    const search = (user: TestUser, q: string, r?: string) => gql(s.a, SEARCH, { q, r }, user.token);

    it('refuses an empty query and one over 256 characters with BAD_USER_INPUT', async () => {
      const alice = await s.seed.user('alice');
      expect(codes(await search(alice, ''))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await search(alice, 'a'.repeat(257)))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await search(alice, '😀'.repeat(257)))).toEqual(['BAD_USER_INPUT']);
    });

    it('counts code points: 256 characters pass, astral ones included', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      await s.seed.send(alice, room, 'needle');
      expect((await gqlOk(s.a, SEARCH, { q: 'a'.repeat(256) }, alice.token)).searchMessages).toEqual([]);
      expect((await gqlOk(s.a, SEARCH, { q: '😀'.repeat(256) }, alice.token)).searchMessages).toEqual([]);
      const padded = `needle ${' '.repeat(249)}`; // 256 characters
      expect((await gqlOk(s.a, SEARCH, { q: padded }, alice.token)).searchMessages.map((m: { body: string }) => m.body)).toEqual([
        'needle',
      ]);
    });

    it('checks the length before anything else: an unknown room with a long query is BAD_USER_INPUT', async () => {
      const alice = await s.seed.user('alice');
      expect(codes(await search(alice, 'x'.repeat(300), MISSING_ID))).toEqual(['BAD_USER_INPUT']);
    });

    it('refuses a query of thousands of OR-ed words and goes on answering searches', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      await s.seed.send(alice, room, 'still searchable');
      const huge = Array.from({ length: 9000 }, (_, i) => `w${i}`).join(' OR ');
      expect(codes(await search(alice, huge))).toEqual(['BAD_USER_INPUT']);
      expect((await gqlOk(s.a, SEARCH, { q: 'searchable' }, alice.token)).searchMessages).toHaveLength(1);
      await healthy();
    });
  });

  // Postgres cancels a statement past its timeout; embedded PGlite cannot
  // (the query runs on the event loop): there the length cap is the bound.
  if (s.name === 'services') {
    describe('Query.searchMessages: statement timeout', () => {
      const FRUIT = 'apple banana cherry orange grape lemon mango peach pear plum melon kiwi';

      it('cancels a search that outlasts it with SERVICE_UNAVAILABLE; the database stays in use, the breaker closed', async () => {
        const impatient = await s.backend.startApp({ database: { ...s.backend.config.database, searchTimeoutMs: 1 } });
        const { alice, room } = await seeder(impatient).roomWithTwoMembers();
        const store = new MessagesStore((await s.backend.database()).db);
        const rows = Array.from({ length: 10_000 }, (_, i) => ({
          roomId: room.id,
          authorId: alice.id,
          body: `${FRUIT} ${i}`,
          clientId: null,
          replyToId: null,
        }));
        await store.insertMany(room.id, rows);
        const everything = FRUIT.split(' ').join(' OR '); // matches all 10,000, each to be ranked
        for (let i = 0; i < 3; i++) {
          expect(codes(await gql(impatient, SEARCH, { q: everything }, alice.token))).toEqual(['SERVICE_UNAVAILABLE']);
        }
        // A slow search is no outage: the same instance goes on writing, and says it is healthy.
        await seeder(impatient).send(alice, room, 'still writing');
        expect((await fetch(`${impatient.url}/healthz`)).status).toBe(200);
        // With the default timeout the same search answers.
        expect((await gqlOk(s.a, SEARCH, { q: everything }, alice.token)).searchMessages).toHaveLength(20);
      });
    });
  }

  describe('cursor seqs within 0..2^31-1', () => {
    it('refuses a forged cursor past 2^31-1 in messages(after/before) with BAD_USER_INPUT, and goes on answering', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      await s.seed.send(alice, room, 'one');
      for (const seq of [2 ** 31, 9_999_999_999]) {
        expect(codes(await gql(s.a, HISTORY, { r: room.id, after: forgedCursor(room, seq) }, alice.token))).toEqual([
          'BAD_USER_INPUT',
        ]);
        expect(codes(await gql(s.a, HISTORY, { r: room.id, before: forgedCursor(room, seq) }, alice.token))).toEqual([
          'BAD_USER_INPUT',
        ]);
      }
      // The largest seq there can be, and 0, are cursors like any other.
      const last = await gqlOk(s.a, HISTORY, { r: room.id, after: forgedCursor(room, 2 ** 31 - 1) }, alice.token);
      expect(last.messages.edges).toEqual([]);
      const first = await gqlOk(s.a, HISTORY, { r: room.id, after: forgedCursor(room, 0) }, alice.token);
      expect(first.messages.edges.map((e: { node: { seq: number } }) => e.node.seq)).toEqual([1]);
      await healthy();
    });

    it('refuses it in messageAdded(after:) with BAD_USER_INPUT, and the socket goes on serving', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const socket = connect(s.a, alice.token);
      const forged = new Subscription(
        socket,
        'subscription($r: ID!, $a: String) { messageAdded(roomId: $r, after: $a) { seq } }',
        {
          r: room.id,
          a: forgedCursor(room, 2 ** 31),
        },
      );
      await forged.settled();
      expect(forged.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      const fine = new Subscription(socket, 'subscription($r: ID!, $a: String) { messageAdded(roomId: $r, after: $a) { seq } }', {
        r: room.id,
        a: forgedCursor(room, 0),
      });
      await s.seed.send(alice, room, 'replayed');
      await fine.next(1);
      expect(fine.values).toEqual([{ messageAdded: { seq: 1 } }]);
      fine.dispose();
      await healthy();
    });

    it('refuses markRead with a seq that is no Int (past 2^31-1) and takes the largest one as the newest', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      await s.seed.send(alice, room, 'one');
      const MARK = 'mutation($r: ID!, $seq: Int!) { markRead(roomId: $r, seq: $seq) { lastReadSeq } }';
      const refused = await gql(s.a, MARK, { r: room.id, seq: 2 ** 31 }, alice.token);
      expect(refused.errors).toHaveLength(1);
      expect(refused.data ?? null).toBeNull();
      expect((await gqlOk(s.a, MARK, { r: room.id, seq: 2 ** 31 - 1 }, alice.token)).markRead.lastReadSeq).toBe(1);
    });
  });

  describe('text that is not well-formed UTF-16 (a lone surrogate)', () => {
    it('refuses it in a message body and a clientId, so c\\uDFFF and c\\uFFFD are two clientIds, not one', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const send = (input: Record<string, unknown>) => gql(s.a, SEND, { i: { roomId: room.id, ...input } }, alice.token);
      expect(codes(await send({ body: `half ${LONE_HIGH} an emoji` }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await send({ body: `${LONE_LOW}` }))).toEqual(['BAD_USER_INPUT']);
      const replacement = await send({ body: 'first', clientId: 'c\uFFFD' });
      expect(replacement.data?.sendMessage).toMatchObject({ body: 'first', clientId: 'c\uFFFD' });
      expect(codes(await send({ body: 'second', clientId: `c${LONE_LOW}` }))).toEqual(['BAD_USER_INPUT']);
      // A well-formed pair is fine, in either field.
      expect((await send({ body: '😀', clientId: 'c😀' })).data?.sendMessage).toMatchObject({ body: '😀', clientId: 'c😀' });
    });

    it('refuses it in an edited body, a room name, an emoji and search and room queries', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const message = await s.seed.send(alice, room, 'fine');
      const results = await Promise.all([
        gql(
          s.a,
          'mutation($id: ID!, $b: String!) { editMessage(input: { id: $id, body: $b }) { id } }',
          { id: message.id, b: `x${LONE_LOW}` },
          alice.token,
        ),
        gql(s.a, 'mutation($n: String!) { createRoom(input: { name: $n }) { id } }', { n: `room ${LONE_HIGH}` }, alice.token),
        gql(
          s.a,
          'mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id } }',
          { m: message.id, e: LONE_HIGH },
          alice.token,
        ),
        gql(s.a, SEARCH, { q: `fine ${LONE_LOW}` }, alice.token),
        gql(s.a, 'query($q: String) { publicRooms(query: $q) { id } }', { q: `r${LONE_HIGH}` }, alice.token),
      ]);
      expect(results.map((result) => codes(result))).toEqual(Array(5).fill(['BAD_USER_INPUT']));
    });

    it('refuses it in a password at register and login', async () => {
      const REGISTER = 'mutation($u: String!, $p: String!) { register(input: { username: $u, password: $p }) { token } }';
      const LOGIN = 'mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) { token } }';
      const username = uniqueName('surrogate');
      expect(codes(await gql(s.a, REGISTER, { u: username, p: `${PASSWORD}${LONE_HIGH}` }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(s.a, REGISTER, { u: `${username}${LONE_LOW}`, p: PASSWORD }))).toEqual(['BAD_USER_INPUT']);
      await gqlOk(s.a, REGISTER, { u: username, p: `${PASSWORD}\uFFFD` });
      // Not the same password as the one with U+FFFD, which the drivers' UTF-8 would have made of it.
      expect(codes(await gql(s.a, LOGIN, { u: username, p: `${PASSWORD}${LONE_HIGH}` }))).toEqual(['BAD_USER_INPUT']);
      await gqlOk(s.a, LOGIN, { u: username, p: `${PASSWORD}\uFFFD` });
    });
  });

  describe('RoomMember.lastReadSeq', () => {
    it('is 0 for every member of a PUBLIC room seen by a non-member, and the real position for its members', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers('PUBLIC');
      await s.seed.sendMany(bob, room, 3);
      await gqlOk(s.a, 'mutation($r: ID!) { markRead(roomId: $r, seq: 2) { id } }', { r: room.id }, alice.token);
      const positions = async (viewer: TestUser) =>
        Object.fromEntries(
          (await gqlOk(s.a, MEMBERS, { id: room.id }, viewer.token)).room.members.map(
            (m: { user: { id: string }; lastReadSeq: number }) => [m.user.id, m.lastReadSeq],
          ),
        );
      expect(await positions(alice)).toEqual({ [alice.id]: 2, [bob.id]: 3 });
      expect(await positions(bob)).toEqual({ [alice.id]: 2, [bob.id]: 3 });
      const outsider = await s.seed.user('outsider');
      expect(await positions(outsider)).toEqual({ [alice.id]: 0, [bob.id]: 0 });
      // Through publicRooms too, and once the outsider joins, the positions show.
      const listed = await gqlOk(
        s.a,
        'query($q: String) { publicRooms(query: $q) { id members { lastReadSeq } } }',
        { q: room.name },
        outsider.token,
      );
      const seen = listed.publicRooms.find((r: { id: string }) => r.id === room.id);
      expect(seen.members.map((m: { lastReadSeq: number }) => m.lastReadSeq)).toEqual([0, 0]);
      await s.seed.join(outsider, room);
      expect(await positions(outsider)).toMatchObject({ [alice.id]: 2, [bob.id]: 3, [outsider.id]: 0 });
    });
  });
});

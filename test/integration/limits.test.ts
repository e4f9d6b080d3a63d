import { describe, expect, it } from 'vitest';
import { codes, gql, Subscription, trackedClients, type GqlError } from '../support/client.js';
import { history } from '../support/messages.js';
import { RawSocket } from '../support/raw-socket.js';
import type { TestRoom, TestUser } from '../support/seed.js';
import { forEachBackend } from '../support/suite.js';

const SEND = (selection: string) => `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${selection} } }`;
/** A selection `depth - 1` levels deep below its field (sendMessage, room, …): replyTo { replyTo { … id } }. */
const below = (depth: number) => `${'replyTo { '.repeat(depth - 2)}id${' }'.repeat(depth - 2)}`;
/** `sendMessage` `count` times under aliases. */
const aliasedSends = (count: number) =>
  `mutation($input: SendMessageInput!) { ${Array.from({ length: count }, (_, i) => `m${i}: sendMessage(input: $input) { id }`).join(' ')} }`;
/**
 * A valid document of exactly `tokens` lexical tokens: `{ t0: __typename t1: __typename … }` (aliases of
 * __typename are not counted as aliases, and distinct names leave graphql-js's overlap check nothing to compare).
 */
const withTokens = (tokens: number, operation = '') => {
  const aliased = Math.floor((tokens - 2) / 3);
  const fields = Array.from({ length: aliased }, (_, i) => `t${i}: __typename`);
  return `${operation}{ ${fields.join(' ')}${' __typename'.repeat(tokens - 2 - 3 * aliased)} }`;
};
/** What a document of withTokens answers. */
const typenames = (data: Record<string, unknown>) => new Set(Object.values(data));

/** The only keys a refusal may have: no stack, no originalError, no internals. */
function expectCleanRefusal(errors: readonly GqlError[] | undefined, code: string, message: RegExp): void {
  expect(errors).toHaveLength(1);
  const [error] = errors!;
  expect(error!.extensions).toEqual({ code });
  expect(error!.message).toMatch(message);
  expect(Object.keys(error!).filter((key) => !['message', 'locations', 'extensions'].includes(key))).toEqual([]);
}

forEachBackend('Operation limits', (s) => {
  const tracked = trackedClients();
  const nothingSent = async (alice: TestUser, room: TestRoom) => expect(await history(s.a, alice, room)).toEqual([]);

  describe('over HTTP', () => {
    it('refuses a document deeper than 12 before any resolver runs, and runs one of depth 12', async () => {
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const input = { roomId: room.id, body: 'too deep' };
      const refused = await gql(s.a, SEND(below(13)), { input }, alice.token);
      expectCleanRefusal(refused.errors, 'GRAPHQL_VALIDATION_FAILED', /^Query depth limit of 12 exceeded, found 13\.$/);
      await nothingSent(alice, room);
      const allowed = await gql(s.a, SEND(below(12)), { input: { ...input, body: 'deep enough' } }, alice.token);
      expect(allowed).toEqual({ data: { sendMessage: { replyTo: null } } });
    });

    it('refuses more than 30 aliases before any resolver runs, and runs 30', async () => {
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const refused = await gql(s.a, aliasedSends(31), { input: { roomId: room.id, body: 'x' } }, alice.token);
      expectCleanRefusal(refused.errors, 'GRAPHQL_VALIDATION_FAILED', /^Aliases limit of 30 exceeded, found 31\.$/);
      await nothingSent(alice, room);
      const thirty = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
      const allowed = await gql(s.a, thirty, {}, alice.token);
      expect(allowed.errors).toBeUndefined();
      expect(Object.values(allowed.data)).toEqual(Array.from({ length: 30 }, () => ({ id: alice.id })));
    });

    it('refuses a document of more than 2,000 tokens before any resolver runs, and runs one of 2,000', async () => {
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const send = SEND('id');
      const padded = `${send.slice(0, -2)}${'__typename '.repeat(2001)}} }`;
      const refused = await gql(s.a, padded, { input: { roomId: room.id, body: 'x' } }, alice.token);
      expectCleanRefusal(refused.errors, 'GRAPHQL_PARSE_FAILED', /^Syntax Error: Token limit of 2000 exceeded\.$/);
      await nothingSent(alice, room);
      const allowed = await gql(s.a, withTokens(2000));
      expect(allowed.errors).toBeUndefined();
      expect(Object.keys(allowed.data)).toHaveLength(666);
      expect(typenames(allowed.data)).toEqual(new Set(['Query']));
      expect(codes(await gql(s.a, withTokens(2001)))).toEqual(['GRAPHQL_PARSE_FAILED']);
    });

    it('refuses more than 50 directives, and a cost over 50,000 (two full pages of 200 messages), but not one page', async () => {
      const directives = (n: number) => `{ ${'__typename @include(if: true) '.repeat(n)}}`;
      expect(await gql(s.a, directives(50))).toEqual({ data: { __typename: 'Query' } });
      expectCleanRefusal((await gql(s.a, directives(51))).errors, 'GRAPHQL_VALIDATION_FAILED', /^Directives limit of 50/);

      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const node =
        'id seq body clientId cursor createdAt editedAt deletedAt author { id username online } ' +
        'replyTo { id body author { id username } } reactions { emoji count users { id username } }';
      const page = (alias: string) =>
        `${alias}: messages(roomId: $r, first: 200) { edges { cursor node { ${node} } } pageInfo { hasNextPage endCursor } }`;
      const onePage = await gql(s.a, `query($r: ID!) { ${page('a')} }`, { r: room.id }, alice.token);
      expect(onePage).toEqual({ data: { a: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } } }); // cost 30,512
      const twoPages = await gql(s.a, `query($r: ID!) { ${page('a')} ${page('b')} }`, { r: room.id }, alice.token);
      expectCleanRefusal(twoPages.errors, 'GRAPHQL_VALIDATION_FAILED', /^Query Cost limit of 50000 exceeded/);
    });

    it('refuses a batch (a JSON array body) with 400', async () => {
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const one = { query: SEND('id'), variables: { input: { roomId: room.id, body: 'batched' } } };
      const response = await fetch(`${s.a.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
        body: JSON.stringify([one, one]),
      });
      expect(response.status).toBe(400);
      expect(codes(await response.json())).toEqual(['BAD_REQUEST']);
      await nothingSent(alice, room);
    });

    it('refuses a mutation sent with GET with 405, executing nothing', async () => {
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const query = `mutation { sendMessage(input: { roomId: "${room.id}", body: "over GET" }) { id } }`;
      const response = await fetch(`${s.a.url}/graphql?query=${encodeURIComponent(query)}`, {
        headers: { accept: 'application/json', authorization: `Bearer ${alice.token}` },
      });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(codes(await response.json())).toEqual(['BAD_REQUEST']);
      await nothingSent(alice, room);
    });
  });

  describe('over WebSocket', () => {
    it('answers a document over a limit with an error for its id, runs nothing, and the socket stays open', async () => {
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      let closed = 0;
      const client = tracked(s.a, alice.token, { onClose: (code) => (closed = code) });
      // Holds the (lazy) socket open between the operations, so a close would be the server's.
      const keeper = new Subscription(client, 'subscription { myEvents { __typename } }');
      const input = { roomId: room.id, body: 'over a limit' };
      const cases: Array<[string, Record<string, unknown> | undefined, string, RegExp]> = [
        [SEND(below(13)), { input }, 'GRAPHQL_VALIDATION_FAILED', /^Query depth limit of 12 exceeded, found 13\.$/],
        [aliasedSends(31), { input }, 'GRAPHQL_VALIDATION_FAILED', /^Aliases limit of 30 exceeded, found 31\.$/],
        [withTokens(2001, 'subscription '), undefined, 'GRAPHQL_PARSE_FAILED', /Token limit of 2000 exceeded\.$/],
      ];
      for (const [query, variables, code, message] of cases) {
        const sub = new Subscription(client, query, variables);
        await sub.settled();
        expectCleanRefusal(sub.error as GqlError[], code, message);
      }
      await nothingSent(alice, room);
      // Still open, and the same limits' edges pass.
      const deep = new Subscription(client, SEND(below(12)), { input });
      await deep.next(1);
      expect(deep.values).toEqual([{ sendMessage: { replyTo: null } }]);
      const tokens = new Subscription(client, withTokens(2000));
      await tokens.next(1);
      expect(typenames(tokens.values[0])).toEqual(new Set(['Query']));
      expect(closed).toBe(0);
      expect(keeper.error).toBeNull();
    });
  });

  describe('the cost limit counts first/last given as variables, their defaults and unbounded lists', () => {
    const NODE =
      'id seq body clientId cursor createdAt editedAt deletedAt author { id username online } ' +
      'replyTo { id body author { id username } } reactions { emoji count users { id username } }';
    /** A page of messages with every field: 30,512 at 200 (the README's figure), 152 at 1, 7,628 at the newest 50 it gives when asked for neither. */
    const page = (alias: string, args = '') =>
      `${alias}: messages(roomId: $r${args}) { edges { cursor node { ${NODE} } } pageInfo { hasNextPage endCursor } }`;
    const aliased = (count: number, field: (alias: string) => string) =>
      Array.from({ length: count }, (_, i) => field(`a${i + 1}`)).join(' ');
    const ROOM =
      'id name kind visibility createdAt unreadCount lastReadSeq ' +
      'lastMessage { id seq body cursor createdAt author { id username online } replyTo { id seq body author { id username } } }';
    const TWO_PAGES = `query($r: ID!, $n: Int) { ${page('a', ', last: $n')} ${page('b', ', last: $n')} }`;
    const TWO_DEFAULT_PAGES = `query($r: ID!, $n: Int = 200) { ${page('a', ', last: $n')} ${page('b', ', last: $n')} }`;
    const THIRTY_SMALL = `query($r: ID!, $n: Int) { ${aliased(30, (a) => `${a}: messages(roomId: $r, last: $n) { edges { node { id body } } }`)} }`;
    const UNSIZED_PAGES = (count: number) => `query($r: ID!) { ${aliased(count, (a) => page(a))} }`;
    const PUBLIC_ROOMS = (args: string) => `{ ${aliased(14, (a) => `${a}: publicRooms${args} { ${ROOM} }`)} }`;
    const MEMBERS_OF_MY_ROOMS = (count: number) =>
      `{ ${aliased(count, (a) => `${a}: myRooms { members { user { id username online } } }`)} }`;

    it('refuses over HTTP and WebSocket what variables, defaults and unbounded lists make cost more than 50,000, and accepts the same documents when they cost less', async () => {
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const socket = tracked(s.a, alice.token);
      /** What both transports answer: 'accepted', 'refused' (a clean cost refusal), or the codes of anything else. */
      const verdicts = async (query: string, variables: Record<string, unknown> = {}) => {
        const vars = { r: room.id, ...variables }; // a variable the document does not declare is ignored
        const over = new Subscription(socket, query, vars);
        const http = await gql(s.a, query, vars, alice.token);
        await over.settled();
        const ws = (over.error as GqlError[] | null) ?? (over.results.flatMap((r) => r.errors ?? []) as GqlError[]);
        return [http.errors ?? [], ws].map((errors: readonly GqlError[]) => {
          if (errors.length === 0) return 'accepted';
          if (errors.length === 1 && /^Query Cost limit of 50000 exceeded, found \d/.test(errors[0]!.message)) {
            expectCleanRefusal(errors, 'GRAPHQL_VALIDATION_FAILED', /^Query Cost limit/);
            return 'refused';
          }
          return JSON.stringify(errors);
        });
      };
      const both = (verdict: string) => [verdict, verdict];
      // first/last as variables: the same document costs what its variables say, request by request
      // (a verdict is never carried over from the document's last request).
      expect(await verdicts(TWO_PAGES, { n: 1 })).toEqual(both('accepted'));
      expect(await verdicts(TWO_PAGES, { n: 200 })).toEqual(both('refused'));
      expect(await verdicts(TWO_PAGES, { n: 1 })).toEqual(both('accepted'));
      // A variable left out costs its default.
      expect(await verdicts(TWO_DEFAULT_PAGES)).toEqual(both('refused'));
      expect(await verdicts(TWO_DEFAULT_PAGES, { n: 1 })).toEqual(both('accepted'));
      // Aliases add up: 30 pages of two fields, at $n = 200 and at $n = 5.
      expect(await verdicts(THIRTY_SMALL, { n: 200 })).toEqual(both('refused'));
      expect(await verdicts(THIRTY_SMALL, { n: 5 })).toEqual(both('accepted'));
      // An argument left out costs its default (publicRooms' first: 50), and a page with neither first nor last
      // the newest 50 it then gives.
      expect(await verdicts(PUBLIC_ROOMS(''))).toEqual(both('refused'));
      expect(await verdicts(PUBLIC_ROOMS('(first: 1)'))).toEqual(both('accepted'));
      expect(await verdicts(UNSIZED_PAGES(7))).toEqual(both('refused'));
      expect(await verdicts(UNSIZED_PAGES(6))).toEqual(both('accepted'));
      // Lists without a size argument (myRooms, members) count the assumed 30 items each (MAX_LIST_SIZE_ASSUMED):
      // about 15,900 for the members of one's rooms.
      expect(await verdicts(MEMBERS_OF_MY_ROOMS(4))).toEqual(both('refused'));
      expect(await verdicts(MEMBERS_OF_MY_ROOMS(3))).toEqual(both('accepted'));
      // Answered over HTTP as any other validation error: 400 for application/graphql-response+json.
      const response = await fetch(`${s.a.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          authorization: `Bearer ${alice.token}`,
        },
        body: JSON.stringify({ query: TWO_PAGES, variables: { r: room.id, n: 200 } }),
      });
      expect(response.status).toBe(400);
    });
  });

  describe('sizes', () => {
    const post = (body: BodyInit, extra: RequestInit = {}) =>
      fetch(`${s.a.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, ...extra });
    const padded = (bytes: number) => {
      const shell = JSON.stringify({ query: '{ __typename }', variables: { pad: '' } });
      return JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(bytes - shell.length) } });
    };
    const chunked = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = new TextEncoder().encode(text);
          for (let at = 0; at < bytes.length; at += 64 * 1024) controller.enqueue(bytes.subarray(at, at + 64 * 1024));
          controller.close();
        },
      });

    it('refuses an HTTP body over 256 KiB with 413, with a Content-Length or chunked, and takes one of 256 KiB', async () => {
      const limit = 256 * 1024;
      for (const send of [
        (text: string) => post(text),
        (text: string) => post(chunked(text), { duplex: 'half' } as RequestInit),
      ]) {
        const over = await send(padded(limit + 1));
        expect(over.status).toBe(413);
        expect(codes(await over.json())).toEqual(['REQUEST_ENTITY_TOO_LARGE']);
        const at = await send(padded(limit));
        expect(await at.json()).toEqual({ data: { __typename: 'Query' } });
      }
    });

    it('closes a socket that sends a frame over 64 KiB before connection_init with 1009', async () => {
      const socket = await RawSocket.open(s.a);
      socket.send('x'.repeat(64 * 1024 + 1));
      expect((await socket.closed).code).toBe(1009);
    });

    it('closes a socket that sends a frame over 64 KiB after its connection_ack with 1009, and takes one of 64 KiB', async () => {
      const alice = await s.seed.user('alice');
      const socket = await RawSocket.acknowledged(s.a, alice.token);
      const frame = (bytes: number) => {
        const shell = JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: '{ __typename }', variables: { pad: '' } },
        });
        const pad = 'x'.repeat(bytes - shell.length);
        return JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }', variables: { pad } } });
      };
      socket.send(frame(64 * 1024));
      expect(await socket.next()).toEqual({ id: '1', type: 'next', payload: { data: { __typename: 'Query' } } });
      expect(await socket.next()).toEqual({ id: '1', type: 'complete' });
      socket.send(frame(64 * 1024 + 1));
      expect((await socket.closed).code).toBe(1009);
    });

    it('closes a socket that sends no connection_init within 3 s with 4408', async () => {
      const opened = Date.now();
      const socket = await RawSocket.open(s.a);
      const { code } = await socket.closed;
      expect(code).toBe(4408);
      expect(Date.now() - opened).toBeGreaterThanOrEqual(2900); // the window is the behaviour under test
    });
  });
});

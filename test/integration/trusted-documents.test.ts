import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, gql as apolloGql, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { DocumentNode } from 'graphql';
import type { Client, SubscribePayload } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeDocument, MessageAddedDocument, SendMessageDocument } from '../../client/index.js';
import { codes, trackedClients, type GqlResult } from '../support/client.js';
import { HttpStream } from '../support/http-stream.js';
import { capturedLogger } from '../support/logs.js';
import { moved, scrape } from '../support/metrics.js';
import { RawSocket } from '../support/raw-socket.js';
import { seeder, type TestRoom, type TestUser } from '../support/seed.js';
import { createApp, type App, type Config } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

/** The kit's manifest, as codegen wrote it: `sha256:<hex>` -> the document's text. */
const manifest = JSON.parse(
  readFileSync(new URL('../../client/generated/persisted-documents.json', import.meta.url), 'utf8'),
) as Record<string, string>;

/** A kit document's trusted-document id (codegen's client preset puts it in `__meta__.hash`). */
const idOf = (document: DocumentNode) => (document as { __meta__?: { hash?: string } }).__meta__!.hash!;
const textOf = (document: DocumentNode) => manifest[idOf(document)]!;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

type Naming = 'documentId' | 'APQ hash';
const NAMINGS: Naming[] = ['documentId', 'APQ hash'];

/** The request parameters that name a document instead of sending its text. */
function named(how: Naming, id: string): Record<string, unknown> {
  if (how === 'documentId') return { documentId: id };
  return { extensions: { persistedQuery: { version: 1, sha256Hash: id.replace(/^sha256:/, '') } } };
}
const apq = (text: string, extra: Record<string, unknown> = {}) => ({
  extensions: { persistedQuery: { version: 1, sha256Hash: sha256(text), ...extra } },
});

const ACCEPT = 'application/graphql-response+json, application/json';

/** POST /graphql with these parameters (a `query`, or what names a document instead). */
async function post(
  app: App,
  params: Record<string, unknown>,
  variables?: Record<string, unknown>,
  token?: string,
  accept = ACCEPT,
) {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ ...params, variables }),
  });
  return { status: response.status, body: (await response.json()) as GqlResult };
}

/** GET /graphql with these parameters in the URL (objects as JSON text). */
async function get(app: App, params: Record<string, unknown>, variables?: Record<string, unknown>, token?: string) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...params, variables })) {
    if (value !== undefined) search.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const response = await fetch(`${app.url}/graphql?${search}`, {
    headers: { accept: ACCEPT, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: response.status, body: (await response.json()) as GqlResult };
}

/**
 * A subscribe payload as a graphql-ws client must send it: its `query` a string, so an empty one where
 * the parameters name the document instead (RawSocket sends one with none).
 */
const payloadOf = (params: Record<string, unknown>) => ({ query: '', ...params }) as unknown as SubscribePayload;

/** One operation over graphql-ws: its result, or the errors of its `error` message. */
function overSocket(client: Client, params: Record<string, unknown>): Promise<GqlResult> {
  return new Promise((resolve, reject) => {
    let result: GqlResult = {};
    client.subscribe(payloadOf(params), {
      next: (value) => void (result = value as GqlResult),
      error: (error) => (Array.isArray(error) ? resolve({ errors: error as GqlResult['errors'] }) : reject(error as Error)),
      complete: () => resolve(result),
    });
  });
}

/** The first event of a subscription over graphql-ws (then unsubscribed), or the errors it was refused with. */
function firstEvent(client: Client, params: Record<string, unknown>): Promise<GqlResult> {
  return new Promise((resolve, reject) => {
    const stop = client.subscribe(payloadOf(params), {
      next: (value) => {
        stop();
        resolve(value as GqlResult);
      },
      error: (error) => (Array.isArray(error) ? resolve({ errors: error as GqlResult['errors'] }) : reject(error as Error)),
      complete: () => reject(new Error('completed without an event')),
    });
  });
}

/** The first result of a subscription over SSE or multipart, then the stream closed. */
async function streamed(
  app: App,
  token: string,
  kind: 'sse' | 'multipart',
  document: Record<string, unknown>,
  variables: object,
) {
  const stream = await HttpStream.open(app, token, kind, document, variables as Record<string, unknown>);
  try {
    await stream.until(() => stream.results.length > 0 || stream.ended, 'a result');
    return stream.results[0] as GqlResult;
  } finally {
    stream.close();
  }
}

const STREAM_ACCEPT = {
  sse: 'text/event-stream',
  /** What Apollo Client's HttpLink sends for a subscription. */
  multipart: 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0, application/json',
};

/**
 * A subscription over SSE or multipart refused before it ran: its status,
 * media type and result (SSE's one `next` event; for multipart, yoga's JSON
 * answer, as to a document that does not parse).
 */
async function refusedStream(app: App, token: string, kind: 'sse' | 'multipart', params: Record<string, unknown>) {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: STREAM_ACCEPT[kind], authorization: `Bearer ${token}` },
    body: JSON.stringify(params),
  });
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  const json = type.startsWith('text/event-stream') ? /^data: (\{.*\})$/m.exec(text)?.[1] : text;
  return { status: response.status, type: type.split(';')[0], body: JSON.parse(json ?? 'null') as GqlResult };
}

/** Two messages in a room: a subscription with `after: first.cursor` gets `second` at once (its catch-up). */
async function twoMessages(app: App, author: TestUser, room: TestRoom) {
  const seed = seeder(app);
  const first = await seed.send(author, room, 'first');
  const second = await seed.send(author, room, 'second');
  return { first, second, variables: { roomId: room.id, after: first.cursor } };
}

forEachBackend('Trusted documents', (s) => {
  const socket = trackedClients();

  describe('a kit document named by documentId or by APQ hash runs as its text would', () => {
    for (const how of NAMINGS) {
      it(`${how}: HTTP POST runs a query and a mutation`, async () => {
        const { alice, room } = await s.seed.roomWithTwoMembers();
        const me = await post(s.a, named(how, idOf(MeDocument)), undefined, alice.token);
        expect(me).toEqual(await post(s.a, { query: textOf(MeDocument) }, undefined, alice.token));
        expect(me.body.data.me.username).toBe(alice.username);
        const sent = await post(
          s.a,
          named(how, idOf(SendMessageDocument)),
          { input: { roomId: room.id, body: how } },
          alice.token,
        );
        expect(sent.status).toBe(200);
        expect(sent.body.data.sendMessage).toMatchObject({ body: how, author: { id: alice.id } });
      });

      it(`${how}: HTTP GET runs a query named in the URL`, async () => {
        const alice = await s.seed.user('alice');
        const me = await get(s.a, named(how, idOf(MeDocument)), undefined, alice.token);
        expect(me).toEqual(await get(s.a, { query: textOf(MeDocument) }, undefined, alice.token));
        expect(me.body.data.me.id).toBe(alice.id);
      });

      it(`${how}: graphql-ws runs a query, a mutation and a subscription (the client's query empty)`, async () => {
        const { alice, room } = await s.seed.roomWithTwoMembers();
        const client = socket(s.a, alice.token);
        const me = await overSocket(client, named(how, idOf(MeDocument)));
        expect(me).toEqual(await overSocket(client, { query: textOf(MeDocument) }));
        expect(me.data.me.id).toBe(alice.id);
        const sent = await overSocket(client, {
          ...named(how, idOf(SendMessageDocument)),
          variables: { input: { roomId: room.id, body: 'over the socket' } },
        });
        expect(sent.data.sendMessage.body).toBe('over the socket');
        const { second, variables } = await twoMessages(s.a, alice, room);
        const event = await firstEvent(client, { ...named(how, idOf(MessageAddedDocument)), variables });
        expect(event.data.messageAdded).toMatchObject({ id: second.id, body: 'second', seq: second.seq });
      });

      it(`${how}: a graphql-ws subscribe message may leave out \`query\` altogether`, async () => {
        const alice = await s.seed.user('alice');
        const raw = await RawSocket.acknowledged(s.a, alice.token);
        try {
          raw.send({ id: '1', type: 'subscribe', payload: named(how, idOf(MeDocument)) });
          expect(await raw.next()).toEqual({
            id: '1',
            type: 'next',
            payload: { data: { me: expect.objectContaining({ id: alice.id }) } },
          });
          expect(await raw.next()).toEqual({ id: '1', type: 'complete' });
          // Without a document named, a missing query is the malformed message it always was.
          raw.send({ id: '2', type: 'subscribe', payload: { variables: {} } });
          expect((await raw.closed).code).toBe(4400);
        } finally {
          raw.close();
        }
      });

      for (const kind of ['sse', 'multipart'] as const) {
        it(`${how}: ${kind === 'sse' ? 'SSE' : 'multipart (Apollo’s HTTP subscriptions)'} streams a subscription`, async () => {
          const { alice, room } = await s.seed.roomWithTwoMembers();
          const { second, variables } = await twoMessages(s.a, alice, room);
          const stream = await HttpStream.open(s.a, alice.token, kind, named(how, idOf(MessageAddedDocument)), variables);
          try {
            await stream.until(() => stream.results.length > 0, 'the catch-up message');
            expect(stream.results[0]!.data.messageAdded).toMatchObject({ id: second.id, body: 'second' });
            const gauge = `chat_subscriptions_active{field="messageAdded",transport="${kind}"}`;
            expect((await scrape(s.a)).get(gauge)).toBeGreaterThanOrEqual(1);
          } finally {
            stream.close();
          }
        });
      }
    }
  });

  describe('APQ registration (Apollo’s PersistedQueryLink, urql’s persistedExchange)', () => {
    it('an unknown hash alone answers PersistedQueryNotFound; with its text it registers it, and the hash alone then runs it over HTTP GET, POST and graphql-ws', async () => {
      const alice = await s.seed.user('alice');
      const text = `query Registered { me { id username } } # ${alice.id}`; // a text no other test sends
      const unknown = await post(s.a, apq(text), undefined, alice.token, 'application/json');
      expect(unknown.status).toBe(200);
      expect(unknown.body).toEqual({
        errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }],
      });
      // urql marks its retry with `miss: true`; Apollo sends the same without it.
      const registered = await post(s.a, { query: text, ...apq(text, { miss: true }) }, undefined, alice.token);
      expect(registered.body).toEqual({ data: { me: { id: alice.id, username: alice.username } } });
      expect((await post(s.a, apq(text), undefined, alice.token)).body).toEqual(registered.body);
      expect((await get(s.a, apq(text), undefined, alice.token)).body).toEqual(registered.body);
      expect(await overSocket(socket(s.a, alice.token), apq(text))).toEqual(registered.body);
    });

    it('a hash that is not the SHA-256 of the text sent with it is refused with BAD_REQUEST and registers nothing', async () => {
      const alice = await s.seed.user('alice');
      const text = `query Mismatched { me { id } } # ${alice.id}`;
      const wrong = { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(`${text} `) } } };
      const refused = await post(s.a, { query: text, ...wrong }, undefined, alice.token);
      expect(refused.status).toBe(400);
      expect(codes(refused.body)).toEqual(['BAD_REQUEST']);
      expect(refused.body.errors![0]!.message).toBe('extensions.persistedQuery.sha256Hash is not the SHA-256 of the query.');
      expect(codes((await post(s.a, wrong, undefined, alice.token)).body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    });

    it('Apollo Client’s PersistedQueryLink sends a new query’s hash by GET, registers it by POST on PersistedQueryNotFound, then sends the hash alone', async () => {
      const alice = await s.seed.user('alice');
      const sent: Array<{ method: string; query: boolean; hash: boolean }> = [];
      const recording = async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = new URL(input instanceof Request ? input.url : input);
        const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : null;
        sent.push({
          method: init?.method ?? 'GET',
          query: typeof (body?.query ?? url.searchParams.get('query')) === 'string',
          hash: JSON.stringify(body?.extensions ?? url.searchParams.get('extensions') ?? '').includes('sha256Hash'),
        });
        return globalThis.fetch(input, init);
      };
      const client = new ApolloClient({
        link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
          new HttpLink({ uri: `${s.a.url}/graphql`, fetch: recording, headers: { authorization: `Bearer ${alice.token}` } }),
        ),
        cache: new InMemoryCache(),
      });
      const query: TypedDocumentNode<{ me: { id: string; username: string } }> = apolloGql`
        query ApolloRegistered {
          me {
            id
            username
          }
        }
      `;
      const first = await client.query({ query, fetchPolicy: 'network-only' });
      expect(first.data?.me).toMatchObject({ id: alice.id, username: alice.username });
      const second = await client.query({ query, fetchPolicy: 'network-only' });
      expect(second.data).toEqual(first.data);
      expect(sent).toEqual([
        { method: 'GET', query: false, hash: true }, // PersistedQueryNotFound
        { method: 'POST', query: true, hash: true }, // registered
        { method: 'GET', query: false, hash: true }, // found
      ]);
    });
  });

  describe('refusals of a document named wrongly', () => {
    it('an unknown documentId answers PERSISTED_QUERY_NOT_FOUND naming it, over HTTP and graphql-ws', async () => {
      const alice = await s.seed.user('alice');
      const documentId = `sha256:${sha256('query Nowhere { me { id } }')}`;
      const expected = {
        errors: [
          {
            message: `No trusted document has the documentId "${documentId}"`,
            extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
          },
        ],
      };
      expect(await post(s.a, { documentId }, undefined, alice.token)).toEqual({ status: 400, body: expected });
      expect(await post(s.a, { documentId }, undefined, alice.token, 'application/json')).toEqual({
        status: 200,
        body: expected,
      });
      expect((await get(s.a, { documentId }, undefined, alice.token)).body).toEqual(expected);
      expect(await overSocket(socket(s.a, alice.token), { documentId })).toEqual(expected);
    });

    it('a documentId sent with a query, or one that is not a string, is refused with BAD_REQUEST', async () => {
      const alice = await s.seed.user('alice');
      const both = await post(s.a, { documentId: idOf(MeDocument), query: textOf(MeDocument) }, undefined, alice.token);
      expect(both.status).toBe(400);
      expect(both.body.errors![0]).toEqual({
        message: 'Send the document either as `query` or as `documentId`, not both.',
        extensions: { code: 'BAD_REQUEST' },
      });
      expect(codes((await post(s.a, { documentId: 42 }, undefined, alice.token)).body)).toEqual(['BAD_REQUEST']);
    });
  });

  describe('limits, rate limits, auth and logs as for the same text', () => {
    it('answers no token, a document over the depth limit and a mutation over GET exactly as for its text', async () => {
      const shallow = await s.backend.startApp({ requestLimits: { ...s.backend.config.requestLimits, depth: 3 } });
      const { alice, room } = await seeder(shallow).roomWithTwoMembers();
      const asText = { query: textOf(MeDocument) };
      for (const how of NAMINGS) {
        // auth: UNAUTHENTICATED, TOKEN_MISSING
        expect(await post(shallow, named(how, idOf(MeDocument)))).toEqual(await post(shallow, asText));
        // limits: MessageFields is deeper than 3
        const variables = { roomId: room.id };
        const deep = await post(shallow, named(how, idOf(MessageAddedDocument)), variables, alice.token);
        expect(codes(deep.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
        expect(deep).toEqual(await post(shallow, { query: textOf(MessageAddedDocument) }, variables, alice.token));
        // a mutation over GET: 405
        const input = { input: { roomId: room.id, body: 'over GET' } };
        const overGet = await get(shallow, named(how, idOf(SendMessageDocument)), input, alice.token);
        expect(overGet.status).toBe(405);
        expect(overGet).toEqual(await get(shallow, { query: textOf(SendMessageDocument) }, input, alice.token));
      }
    });

    it('logs each request with its operation’s name and type, as for its text', async () => {
      const { logger, line } = capturedLogger('info');
      const logged = createApp({ ...s.backend.config, logLevel: 'info' }, { logger });
      await logged.start();
      try {
        const alice = await seeder(logged).user('alice');
        const ways: Array<[string, Record<string, unknown>]> = [
          ['text', { query: textOf(MeDocument) }],
          ...NAMINGS.map((how): [string, Record<string, unknown>] => [how, named(how, idOf(MeDocument))]),
        ];
        for (const [way, params] of ways) {
          const requestId = `trusted-${way.replace(/\W/g, '-')}`;
          const response = await fetch(`${logged.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}`, 'x-request-id': requestId },
            body: JSON.stringify(params),
          });
          expect(response.status).toBe(200);
          await response.text();
          const entry = await line((l) => l.msg === 'request' && l.req === requestId);
          expect(entry).toMatchObject({ method: 'POST', path: '/graphql', operation: 'Me', type: 'query', status: 200 });
        }
      } finally {
        await logged.stop();
      }
    });

    it('counts sends by documentId, by APQ hash and as text against one rate limit', async () => {
      const limited = await s.backend.startApp({
        rateLimits: { ...s.backend.config.rateLimits, send: { points: 2, seconds: 60 } },
      });
      const { alice, room } = await seeder(limited).roomWithTwoMembers();
      const send = (params: Record<string, unknown>, body: string) =>
        post(limited, params, { input: { roomId: room.id, body } }, alice.token);
      expect((await send(named('documentId', idOf(SendMessageDocument)), 'one')).body.data.sendMessage.body).toBe('one');
      expect((await send({ query: textOf(SendMessageDocument) }, 'two')).body.data.sendMessage.body).toBe('two');
      const third = await send(named('APQ hash', idOf(SendMessageDocument)), 'three');
      expect(codes(third.body)).toEqual(['RATE_LIMITED']);
      expect(third.body.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
    });
  });

  describe('TRUSTED_DOCUMENTS=only', () => {
    let only: App;
    let alice: TestUser;
    let room: TestRoom;
    const refusal = {
      message:
        'This server runs only trusted documents (TRUSTED_DOCUMENTS=only) and this document is not one of them: ' +
        'send the documentId of a document of its manifest',
      extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' },
    };
    const AD_HOC_QUERY = '{ me { id } }';
    const AD_HOC_SUBSCRIPTION = 'subscription($roomId: ID!) { messageAdded(roomId: $roomId) { id } }';
    beforeAll(async () => {
      const trustedDocuments: Config['trustedDocuments'] = { ...s.backend.config.trustedDocuments, mode: 'only' };
      only = await s.backend.startApp({ trustedDocuments });
      ({ alice, room } = await seeder(s.a).roomWithTwoMembers());
    });
    afterAll(() => only?.stop());

    it('refuses an ad-hoc document on every transport with PERSISTED_QUERY_NOT_IN_LIST naming the setting', async () => {
      const before = await scrape(only);
      expect(await post(only, { query: AD_HOC_QUERY }, undefined, alice.token)).toEqual({
        status: 400,
        body: { errors: [refusal] },
      });
      expect(await post(only, { query: AD_HOC_QUERY }, undefined, alice.token, 'application/json')).toEqual({
        status: 200,
        body: { errors: [refusal] },
      });
      expect((await get(only, { query: AD_HOC_QUERY }, undefined, alice.token)).body).toEqual({ errors: [refusal] });
      const client = socket(only, alice.token);
      expect(await overSocket(client, { query: AD_HOC_QUERY })).toEqual({ errors: [refusal] });
      expect(await firstEvent(client, { query: AD_HOC_SUBSCRIPTION, variables: { roomId: room.id } })).toEqual({
        errors: [refusal],
      });
      for (const kind of ['sse', 'multipart'] as const) {
        // Answered as a subscription whose text does not parse is, in that transport's way.
        const unparsable = await refusedStream(s.a, alice.token, kind, { query: 'subscription {' });
        const refused = await refusedStream(only, alice.token, kind, {
          query: AD_HOC_SUBSCRIPTION,
          variables: { roomId: room.id },
        });
        expect(refused).toEqual({ ...unparsable, body: { errors: [refusal] } });
      }
      const after = await scrape(only);
      expect(moved(before, after, 'chat_graphql_errors_total{code="PERSISTED_QUERY_NOT_IN_LIST"}')).toBe(7);
      for (const transport of ['ws', 'sse', 'multipart']) {
        expect(moved(before, after, `chat_subscriptions_active{field="messageAdded",transport="${transport}"}`)).toBe(0);
      }
    });

    it('refuses an APQ registration of an ad-hoc document, and an id or a hash that no manifest has, with the same code', async () => {
      expect((await post(only, { query: AD_HOC_QUERY, ...apq(AD_HOC_QUERY) }, undefined, alice.token)).body).toEqual({
        errors: [refusal],
      });
      const hashAlone = await post(only, apq(AD_HOC_QUERY), undefined, alice.token);
      expect(hashAlone.body.errors).toEqual([
        {
          message: `No trusted document has the hash "${sha256(AD_HOC_QUERY)}"; this server runs only trusted documents (TRUSTED_DOCUMENTS=only)`,
          extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' },
        },
      ]);
      const documentId = `sha256:${sha256(AD_HOC_QUERY)}`;
      expect(await overSocket(socket(only, alice.token), { query: '', documentId })).toEqual({
        errors: [
          {
            message: `No trusted document has the documentId "${documentId}"; this server runs only trusted documents (TRUSTED_DOCUMENTS=only)`,
            extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' },
          },
        ],
      });
    });

    it('runs the kit’s documents by documentId, by APQ hash and as their manifest text, on every transport', async () => {
      const me = { data: { me: { id: alice.id, username: alice.username, online: expect.any(Boolean) as boolean } } };
      for (const params of [...NAMINGS.map((how) => named(how, idOf(MeDocument))), { query: textOf(MeDocument) }]) {
        expect((await post(only, params, undefined, alice.token)).body).toEqual(me);
        expect((await get(only, params, undefined, alice.token)).body).toEqual(me);
        expect(await overSocket(socket(only, alice.token), params)).toEqual(me);
      }
      const { second, variables } = await twoMessages(s.a, alice, room);
      for (const how of NAMINGS) {
        const subscription = named(how, idOf(MessageAddedDocument));
        expect((await firstEvent(socket(only, alice.token), { ...subscription, variables })).data.messageAdded.id).toBe(
          second.id,
        );
        for (const kind of ['sse', 'multipart'] as const) {
          expect((await streamed(only, alice.token, kind, subscription, variables)).data.messageAdded.id).toBe(second.id);
        }
      }
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, connected, gql, Subscription, trackedClients, type GqlResult } from '../support/client.js';
import { testConfig } from '../support/config.js';
import { history } from '../support/messages.js';
import { PASSWORD, seeder } from '../support/seed.js';
import { createApp, createMemoryBus, openDatabase, type App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const post = (app: App, body: string, token?: string) =>
  fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });

/** As NODE_ENV=production has it by default. */
const PRODUCTION_EXPOSURE = { graphiql: false, introspection: false, fieldSuggestions: false };

forEachBackend('Request and error hygiene', (s) => {
  const tracked = trackedClients();

  it('accepts and executes a JSON body that starts with a UTF-8 byte order mark', async () => {
    const alice = await s.seed.user('alice');
    const room = await s.seed.room(alice);
    const query = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { body } }';
    const body = `\uFEFF${JSON.stringify({ query, variables: { input: { roomId: room.id, body: 'after a BOM' } } })}`;
    const response = await post(s.a, body, alice.token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { sendMessage: { body: 'after a BOM' } } });
    expect((await history(s.a, alice, room)).map((m) => m.body)).toEqual(['after a BOM']);
  });

  it('answers a truncated JSON body with a clean 400 that echoes nothing of the body', async () => {
    const alice = await s.seed.user('alice');
    const login = JSON.stringify({
      query: 'mutation($input: CredentialsInput!) { login(input: $input) { token } }',
      variables: { input: { username: alice.username, password: PASSWORD } },
    });
    for (const body of [login.slice(0, -1), `\uFEFF${login.slice(0, -3)}`, login.slice(0, login.indexOf(PASSWORD) + 5)]) {
      const response = await post(s.a, body);
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({
        errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }],
      });
      expect(text).not.toContain(PASSWORD.slice(0, 5));
      expect(text).not.toContain(alice.username);
    }
  });

  describe('with introspection, GraphiQL and suggestions off (the production defaults)', () => {
    let app: App;
    beforeAll(async () => {
      app = await s.backend.startApp({ exposure: PRODUCTION_EXPOSURE });
    });
    const SCHEMA = '{ __schema { queryType { name } } }';
    const TYPE = '{ __type(name: "User") { fields { name } } }';

    it('refuses introspection with GRAPHQL_VALIDATION_FAILED over HTTP and WebSocket, and still answers __typename', async () => {
      const alice = await seeder(app).user('alice');
      for (const query of [SCHEMA, TYPE, `{ __typename ${SCHEMA.slice(1)}`]) {
        const result = await gql(app, query, {}, alice.token);
        expect(codes(result)).toContain('GRAPHQL_VALIDATION_FAILED');
        expect(new Set(codes(result))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
        expect(result.data).toBeUndefined();
      }
      expect(await gql(app, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
      const client = tracked(app, alice.token);
      for (const query of [SCHEMA, TYPE]) {
        const sub = new Subscription(client, query);
        await sub.settled();
        expect(new Set(codes({ errors: sub.error as unknown[] }))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
      }
      const typename = new Subscription(client, '{ __typename me { __typename } }');
      await typename.next(1);
      expect(typename.values).toEqual([{ __typename: 'Query', me: { __typename: 'User' } }]);
    });

    it('serves no GraphiQL page', async () => {
      const response = await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await response.text()).not.toMatch(/graphiql/i);
    });

    it('gives no "Did you mean" in any wording, over HTTP and WebSocket', async () => {
      const alice = await seeder(app).user('alice');
      const typos = [
        '{ mee { id } }',
        'mutation { createRoom(input: { name: "r", visibility: PUBLC }) { id } }',
        '{ myRooms { ... on User { id } } }',
        'query($v: RoomVisibility!) { publicRooms { visibility } __typename @include(if: $v) }',
      ];
      for (const query of typos) {
        const result = await gql(app, query, {}, alice.token);
        expect(codes(result)[0]).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(JSON.stringify(result)).not.toMatch(/did you mean/i);
      }
      const enumVariable = await gql(
        app,
        'mutation($v: RoomVisibility) { createRoom(input: { name: "r", visibility: $v }) { id } }',
        { v: 'PUBLC' },
        alice.token,
      );
      // Coerced at execution, not validation: the same rule holds.
      expect(enumVariable.errors?.[0]?.message).toMatch(/^Variable "\$v" got invalid value "PUBLC"/);
      expect(JSON.stringify(enumVariable)).not.toMatch(/did you mean/i);
      const sub = new Subscription(tracked(app, alice.token), typos[0]!);
      await sub.settled();
      expect(JSON.stringify(sub.error)).toMatch(/Cannot query field/);
      expect(JSON.stringify(sub.error)).not.toMatch(/did you mean/i);
    });
  });

  it('answers introspection and suggests fields by default (development)', async () => {
    const schema = await gql(s.a, '{ __schema { queryType { name } } }');
    expect(schema).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    const typo = await gql(s.a, '{ mee { id } }');
    expect(typo.errors?.[0]?.message).toMatch(/Did you mean "me"\?/);
  });
});

describe('Masked errors on both transports', () => {
  let app: App;
  let closeDatabase: () => Promise<void>;
  beforeAll(async () => {
    const database = await openDatabase({ kind: 'pglite', dir: null });
    closeDatabase = () => database.close();
    app = createApp(testConfig(), { shared: { database, bus: createMemoryBus() } });
    await app.start();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('carry only their code: no extensions.unexpected, no originalError, over HTTP and WebSocket', async () => {
    const alice = await seeder(app).user('alice');
    const client = trackedClients()(app, alice.token);
    const keeper = new Subscription(client, 'subscription { myEvents { __typename } }');
    await connected(client);
    await closeDatabase(); // every query now fails inside the driver
    const overHttp = await gql(app, '{ myRooms { id } }', {}, alice.token);
    const query = new Subscription(client, '{ myRooms { id } }');
    await query.until(() => query.results.length > 0 || query.error !== null, 5_000, 'a result');
    const overWs = query.results[0] as GqlResult;
    for (const result of [overHttp, overWs]) {
      expect(result.errors).toEqual([
        {
          message: 'Unexpected error.',
          locations: [{ line: 1, column: 3 }],
          path: ['myRooms'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
    }
    keeper.dispose();
  });
});

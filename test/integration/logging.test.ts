import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCodeOf, closeSocket, connected, gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { testConfig } from '../support/config.js';
import { capturedLogger } from '../support/logs.js';
import { seeder, type Seed } from '../support/seed.js';
import { createApp, type App } from '../support/server.js';

const SECRET_PASSWORD = 'pw-that-must-not-be-logged-1';
const SECRET_BODY = 'a message body that must not be logged';

/**
 * What an operator reads at info: JSON lines, with none of a client's
 * secrets in them (tokens, passwords, message bodies), whatever it did.
 */
describe('Logs at info', () => {
  const { logger, lines } = capturedLogger('info', { instance: 'test' });
  const client = trackedClients();
  let app: App;
  beforeAll(async () => {
    app = createApp(testConfig({ logLevel: 'info' }), { logger });
    await app.start();
  });
  afterAll(() => app.stop());

  it('names each HTTP request by an id in X-Request-Id, or keeps the one a proxy gave', async () => {
    const ours = await fetch(`${app.url}/graphql?query=%7B__typename%7D`);
    expect(ours.headers.get('x-request-id')).toMatch(/^[\w.:-]+$/);
    const given = await fetch(`${app.url}/graphql?query=%7B__typename%7D`, { headers: { 'x-request-id': 'from-the-proxy-1' } });
    expect(given.headers.get('x-request-id')).toBe('from-the-proxy-1');
  });

  it('carry no token, password or message body through register, login, a send and a subscription', async () => {
    const credentials = (username: string) => ({ input: { username, password: SECRET_PASSWORD } });
    const REGISTER = 'mutation($input: CredentialsInput!) { register(input: $input) { token user { id } } }';
    const alice = (await gqlOk(app, REGISTER, credentials('alice_logs'))).register;
    const bob = (await gqlOk(app, REGISTER, credentials('bob_logs'))).register;
    const login = await gqlOk(
      app,
      'mutation($input: CredentialsInput!) { login(input: $input) { token } }',
      credentials('alice_logs'),
    );
    // A wrong password too: a refused login is where a careless logger would print the attempt.
    await gql(app, 'mutation($input: CredentialsInput!) { login(input: $input) { token } }', {
      input: { username: 'alice_logs', password: `${SECRET_PASSWORD}-wrong` },
    });
    const room = (
      await gqlOk(app, 'mutation { createRoom(input: { name: "logs", visibility: PUBLIC }) { id } }', {}, alice.token)
    ).createRoom;
    await gqlOk(app, 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room.id }, bob.token);
    const sub = new Subscription(client(app, bob.token), 'subscription($r: ID!) { messageAdded(roomId: $r) { body } }', {
      r: room.id,
    });
    // Sent until the subscriber has one (it may subscribe after the first send).
    await expect
      .poll(async () => {
        await gqlOk(
          app,
          'mutation($r: ID!, $b: String!) { sendMessage(input: { roomId: $r, body: $b }) { id } }',
          { r: room.id, b: SECRET_BODY },
          login.login.token,
        );
        return sub.received.length;
      })
      .toBeGreaterThan(0);
    await app.stop();

    expect(lines.map((line) => line.msg)).toContain('listening');
    for (const line of lines)
      expect(line).toMatchObject({ level: expect.any(String), time: expect.any(String), instance: 'test' });
    const text = JSON.stringify(lines);
    for (const secret of [SECRET_PASSWORD, SECRET_BODY, alice.token, bob.token, login.login.token])
      expect(text).not.toContain(secret);
  });
});

/**
 * What a developer reads at info while using the server: one line per HTTP
 * request and one per socket opening and closing, each with the ids that tie
 * it to the client (X-Request-Id, the connection), and nothing the client sent.
 */
describe('Access lines at info', () => {
  const { logger, line } = capturedLogger('info', { instance: 'test' });
  const client = trackedClients();
  let app: App;
  let seed: Seed;
  beforeAll(async () => {
    app = createApp(testConfig({ logLevel: 'info' }), { logger });
    await app.start();
    seed = seeder(app);
  });
  afterAll(() => app.stop());

  const requestLine = (id: string) => line((l) => l.msg === 'request' && l.req === id);

  it('one per HTTP request: method, path, operation and its type, status, duration and request id, never variables or tokens', async () => {
    const alice = await seed.user('alice');
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}`, 'x-request-id': 'access-1' },
      body: JSON.stringify({
        query: 'mutation Rename($name: String!) { createRoom(input: { name: $name }) { id } }',
        variables: { name: SECRET_BODY.slice(0, 40) },
      }),
    });
    expect(response.status).toBe(200);
    const logged = await requestLine('access-1');
    expect(logged).toEqual({
      level: 'info',
      time: expect.any(String),
      instance: 'test',
      msg: 'request',
      method: 'POST',
      path: '/graphql',
      operation: 'Rename',
      type: 'mutation',
      status: 200,
      ms: expect.any(Number),
      req: 'access-1',
    });
    expect(logged.ms).toBeGreaterThanOrEqual(0);

    // A GET carries its document and variables in the query string: the line keeps the path only.
    const query = encodeURIComponent('query Who($x: String) { me { id } }');
    const variables = encodeURIComponent(JSON.stringify({ x: SECRET_PASSWORD }));
    const get = await fetch(`${app.url}/graphql?query=${query}&variables=${variables}`, {
      headers: { accept: 'application/json', authorization: `Bearer ${alice.token}` },
    });
    const id = get.headers.get('x-request-id')!;
    const getLine = await requestLine(id);
    expect(getLine).toMatchObject({ method: 'GET', path: '/graphql', operation: 'Who', type: 'query', status: 200 });
    for (const secret of [SECRET_PASSWORD, SECRET_BODY.slice(0, 40), alice.token, 'variables']) {
      expect(JSON.stringify([logged, getLine])).not.toContain(secret);
    }
  });

  it('one per request that never reaches an operation too, with its status', async () => {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'access-2' },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    const logged = await requestLine('access-2');
    expect(logged).toMatchObject({ method: 'POST', path: '/graphql', status: 400, req: 'access-2' });
    expect(logged).not.toHaveProperty('operation');
  });

  it('one when a socket opens and one when it closes: its connection id, the close code and how long it lived', async () => {
    const alice = await seed.user('alice');
    const socket = client(app, alice.token);
    const acknowledged = connected(socket);
    const sub = new Subscription(socket, 'subscription { myEvents { __typename } }', {});
    await acknowledged;
    const opened = await line((l) => l.msg === 'socket opened');
    expect(opened).toMatchObject({ level: 'info', conn: expect.any(String) });
    await closeSocket(socket);
    const closed = await line((l) => l.msg === 'socket closed' && l.conn === opened.conn);
    expect(closed).toMatchObject({ level: 'info', conn: opened.conn, code: 1000, user: alice.id, ms: expect.any(Number) });
    expect(sub.error).toBeNull();
  });

  it('names the code and reason of a socket the server closed (a refused token: 4403 Forbidden)', async () => {
    const code = await closeCodeOf(client, app, { authorization: 'Bearer not-a-token' });
    expect(code).toBe(4403);
    const closed = await line((l) => l.msg === 'socket closed' && l.code === 4403);
    expect(closed).toMatchObject({ reason: 'Forbidden', ms: expect.any(Number) });
    expect(closed).not.toHaveProperty('user');
    expect(JSON.stringify(closed)).not.toContain('not-a-token');
  });
});

describe('Lines at debug', () => {
  const { logger, line } = capturedLogger('debug');
  let app: App;
  beforeAll(async () => {
    app = createApp(testConfig({ logLevel: 'debug' }), { logger });
    await app.start();
  });
  afterAll(() => app.stop());

  it("carry the request id on yoga's own lines too", async () => {
    await fetch(`${app.url}/graphql?query=%7B__typename%7D`, {
      headers: { accept: 'application/json', 'x-request-id': 'debug-1' },
    });
    const parsing = await line((l) => l.req === 'debug-1' && l.msg === 'Parsing request to extract GraphQL parameters');
    expect(parsing.level).toBe('debug');
    await line((l) => l.req === 'debug-1' && l.msg === 'request');
  });
});

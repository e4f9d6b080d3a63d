import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { testConfig } from '../support/config.js';
import { capturedLogger } from '../support/logs.js';
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

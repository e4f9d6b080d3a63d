import type { Client } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import {
  closeCodeOf,
  codes,
  connected,
  eventually,
  gql,
  gqlOk,
  sleep,
  Subscription,
  trackedClients,
  type WsOptions,
} from '../support/client.js';
import { messageProbe } from '../support/probes.js';
import { badTokens, MISSING_ID, PASSWORD, seeder, tokenExpiringIn, uniqueName, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const REGISTER = 'mutation($input: CredentialsInput!) { register(input: $input) { token user { id username online } } }';
const LOGIN = 'mutation($input: CredentialsInput!) { login(input: $input) { token user { id username online } } }';
const ME = '{ me { id username online } }';
const USER = 'query($id: ID!) { user(id: $id) { id username online } }';
const MESSAGE_ADDED = 'subscription($r: ID!) { messageAdded(roomId: $r) { id body } }';

forEachBackend('Users and authentication', (s) => {
  const client = trackedClients();

  const register = (username: string, password = PASSWORD, app: App = s.a) =>
    gql(app, REGISTER, { input: { username, password } });
  const login = (username: string, password = PASSWORD, app: App = s.a) => gql(app, LOGIN, { input: { username, password } });

  /** A socket for `user` kept open by a subscription to a room of theirs; resolves once acknowledged. */
  async function openSocket(app: App, user: TestUser, options: WsOptions = {}): Promise<{ socket: Client; sub: Subscription }> {
    const room = await s.seed.room(user);
    const socket = client(app, user.token, options);
    const ack = connected(socket);
    const sub = new Subscription(socket, MESSAGE_ADDED, { r: room.id });
    await ack;
    return { socket, sub };
  }

  describe('Mutation.register', () => {
    it('creates an account and returns a token and the user, offline', async () => {
      const username = uniqueName('reg');
      const result = await register(username);
      expect(result.errors).toBeUndefined();
      const { token, user } = result.data.register;
      expect(typeof token).toBe('string');
      expect(user).toEqual({ id: expect.any(String), username, online: false });
    });

    it('returns a token that authenticates `me` over HTTP on either instance', async () => {
      const username = uniqueName('reg');
      const { token, user } = (await register(username)).data.register;
      expect((await gqlOk(s.a, ME, {}, token)).me).toEqual({ id: user.id, username, online: false });
      expect((await gqlOk(s.b, ME, {}, token)).me).toMatchObject({ id: user.id, username });
    });

    it('accepts usernames of exactly 3 and 32 characters using every allowed character class', async () => {
      const three = `a${Math.random().toString(36).slice(2, 4).padEnd(2, '0')}`;
      const thirtyTwo = uniqueName('A.b-C_'.padEnd(23, 'x')); // 23 + '_' + 8 hex = 32
      expect(thirtyTwo).toHaveLength(32);
      expect(codes(await register(three))).toEqual([]);
      expect(codes(await register(thirtyTwo))).toEqual([]);
    });

    it('rejects a username shorter than 3 characters with BAD_USER_INPUT', async () => {
      expect(codes(await register('ab'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await register(''))).toEqual(['BAD_USER_INPUT']);
    });

    it('rejects a username longer than 32 characters with BAD_USER_INPUT', async () => {
      const name = uniqueName('x'.repeat(24)); // 33
      expect(name).toHaveLength(33);
      expect(codes(await register(name))).toEqual(['BAD_USER_INPUT']);
    });

    it('rejects a username with a character outside [A-Za-z0-9_.-] with BAD_USER_INPUT', async () => {
      for (const name of [`has space${Date.now() % 1000}`, uniqueName('café'), uniqueName('at@sign'), uniqueName('tab\t')]) {
        expect(codes(await register(name)), name).toEqual(['BAD_USER_INPUT']);
      }
    });

    it('rejects a password of 7 emoji (14 UTF-16 units) with BAD_USER_INPUT: lengths are code points', async () => {
      const password = '😀'.repeat(7);
      expect(password.length).toBe(14);
      expect(codes(await register(uniqueName('pw'), password))).toEqual(['BAD_USER_INPUT']);
    });

    it('accepts a password of 8 emoji and signs in with it', async () => {
      const username = uniqueName('pw');
      const password = '😀'.repeat(8);
      expect(codes(await register(username, password))).toEqual([]);
      expect(codes(await login(username, password))).toEqual([]);
    });

    it('accepts a password of 256 emoji (512 UTF-16 units)', async () => {
      expect(codes(await register(uniqueName('pw'), '😀'.repeat(256)))).toEqual([]);
    });

    it('rejects a password of 7 characters and one of 257 characters with BAD_USER_INPUT', async () => {
      expect(codes(await register(uniqueName('pw'), 'a'.repeat(7)))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await register(uniqueName('pw'), 'a'.repeat(257)))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await register(uniqueName('pw'), 'a'.repeat(256)))).toEqual([]);
    });

    it('rejects a username that is already taken with BAD_USER_INPUT', async () => {
      const username = uniqueName('dup');
      expect(codes(await register(username))).toEqual([]);
      expect(codes(await register(username, 'another password'))).toEqual(['BAD_USER_INPUT']);
    });

    it('rejects a username that differs only in case with BAD_USER_INPUT', async () => {
      const username = uniqueName('Case');
      expect(codes(await register(username))).toEqual([]);
      expect(codes(await register(username.toUpperCase(), 'another password', s.b))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await register(username.toLowerCase()))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('Mutation.login', () => {
    it('returns a token and the user for the right password', async () => {
      const user = await s.seed.user('login');
      const result = await login(user.username);
      expect(result.errors).toBeUndefined();
      expect(result.data.login.user).toEqual({ id: user.id, username: user.username, online: false });
      expect(typeof result.data.login.token).toBe('string');
    });

    it('signs in when the username is typed in another letter case, returning it as registered', async () => {
      const username = uniqueName('MiXeD');
      const { user } = (await register(username)).data.register;
      const result = await login(username.toUpperCase());
      expect(result.errors).toBeUndefined();
      expect(result.data.login.user).toMatchObject({ id: user.id, username });
    });

    it('returns a token that authenticates `me` on either instance', async () => {
      const user = await s.seed.user('login');
      const { token } = (await gqlOk(s.a, LOGIN, { input: { username: user.username, password: PASSWORD } })).login;
      expect((await gqlOk(s.a, ME, {}, token)).me).toMatchObject({ id: user.id, username: user.username });
      expect((await gqlOk(s.b, ME, {}, token)).me).toMatchObject({ id: user.id });
    });

    it('gives a wrong password and an unknown user the same UNAUTHENTICATED error with the identical message', async () => {
      const user = await s.seed.user('login');
      const wrongPassword = await login(user.username, 'not the password');
      const unknownUser = await login(uniqueName('ghost'), PASSWORD);
      expect(codes(wrongPassword)).toEqual(['UNAUTHENTICATED']);
      expect(codes(unknownUser)).toEqual(['UNAUTHENTICATED']);
      expect(wrongPassword.errors![0]!.message).toBe(unknownUser.errors![0]!.message);
      expect(wrongPassword.data).toBeNull();
      expect(unknownUser.data).toBeNull();
    });

    it('refuses a password that differs only in case with UNAUTHENTICATED', async () => {
      const user = await s.seed.user('login');
      expect(codes(await login(user.username, PASSWORD.toUpperCase()))).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('Query.me', () => {
    it('refuses a request without a token with UNAUTHENTICATED', async () => {
      expect(codes(await gql(s.a, ME))).toEqual(['UNAUTHENTICATED']);
    });

    it('refuses a garbage token with UNAUTHENTICATED', async () => {
      expect(codes(await gql(s.a, ME, {}, 'garbage'))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await gql(s.a, ME, {}, 'a.b.c'))).toEqual(['UNAUTHENTICATED']);
    });

    it('returns the signed-in user for a valid token', async () => {
      const user = await s.seed.user('me');
      expect((await gqlOk(s.a, ME, {}, user.token)).me).toEqual({ id: user.id, username: user.username, online: false });
    });

    it('accepts an HS256 token minted with the server secret (the control for the bad tokens below)', async () => {
      const user = await s.seed.user('me');
      const token = await tokenExpiringIn(user.id, 3600);
      expect((await gqlOk(s.a, ME, {}, token)).me).toMatchObject({ id: user.id });
    });

    it('refuses each bad token (other secret, alg=none, HS512, expired, no sub) with UNAUTHENTICATED', async () => {
      const user = await s.seed.user('me');
      for (const [kind, token] of Object.entries(await badTokens(user.id))) {
        const result = await gql(s.a, ME, {}, token);
        expect(codes(result), kind).toEqual(['UNAUTHENTICATED']);
      }
    });

    it('refuses a token it accepted before once the token has expired: UNAUTHENTICATED, and 4403 on a new socket', async () => {
      // Verified tokens are remembered until their exp, never past it.
      const shortLived = await s.backend.startApp({ jwt: { ...s.backend.config.jwt, ttlSeconds: 2 } });
      const user = await seeder(shortLived).user('me');
      expect((await gqlOk(shortLived, ME, {}, user.token)).me).toMatchObject({ id: user.id });
      const { exp } = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString()) as { exp: number };
      await sleep(exp * 1000 - Date.now() + 50); // the expiry itself is under test
      expect(codes(await gql(shortLived, ME, {}, user.token))).toEqual(['UNAUTHENTICATED']);
      expect(await closeCodeOf(client, shortLived, { authorization: `Bearer ${user.token}` })).toBe(4403);
    });
  });

  describe('Query.user', () => {
    it('returns an existing user by id', async () => {
      const [viewer, other] = await s.seed.users('viewer', 'other');
      expect((await gqlOk(s.a, USER, { id: other.id }, viewer.token)).user).toEqual({
        id: other.id,
        username: other.username,
        online: false,
      });
    });

    it('returns null for an unknown uuid', async () => {
      const viewer = await s.seed.user('viewer');
      const result = await gql(s.a, USER, { id: MISSING_ID }, viewer.token);
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ user: null });
    });

    it('returns null, not an error, for an id that is not a uuid', async () => {
      const viewer = await s.seed.user('viewer');
      for (const id of ['abc', '', "1' or '1'='1"]) {
        const result = await gql(s.a, USER, { id }, viewer.token);
        expect(result.errors, id).toBeUndefined();
        expect(result.data, id).toEqual({ user: null });
      }
    });

    it('refuses a request without a token with UNAUTHENTICATED', async () => {
      const other = await s.seed.user('other');
      expect(codes(await gql(s.a, USER, { id: other.id }))).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('WebSocket authentication', () => {
    it('closes a socket without a token with 4403', async () => {
      expect(await closeCodeOf(client, s.a, {})).toBe(4403);
    });

    it('closes a socket with a malformed token with 4403', async () => {
      expect(await closeCodeOf(client, s.a, { authorization: 'Bearer garbage' })).toBe(4403);
      expect(await closeCodeOf(client, s.a, { authorization: 'Bearer a.b.c' })).toBe(4403);
    });

    it('closes a socket whose authorization is not a Bearer token with 4403', async () => {
      const user = await s.seed.user('ws');
      expect(await closeCodeOf(client, s.a, { authorization: user.token })).toBe(4403);
      expect(await closeCodeOf(client, s.a, { authorization: `Basic ${user.token}` })).toBe(4403);
    });

    it('closes a socket with each bad token (other secret, alg=none, HS512, expired, no sub) with 4403', async () => {
      const user = await s.seed.user('ws');
      const tokens = Object.entries(await badTokens(user.id));
      const closes = await Promise.all(tokens.map(([, token]) => closeCodeOf(client, s.a, { authorization: `Bearer ${token}` })));
      expect(Object.fromEntries(tokens.map(([kind], i) => [kind, closes[i]]))).toEqual(
        Object.fromEntries(tokens.map(([kind]) => [kind, 4403])),
      );
    });

    it('keeps a socket with a valid token open and delivers on it', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      let closedWith: number | null = null;
      const socket = client(s.b, null, {
        connectionParams: { authorization: `Bearer ${bob.token}` },
        onClose: (code) => {
          closedWith = code;
        },
      });
      const ack = connected(socket);
      const sub = new Subscription(socket, MESSAGE_ADDED, { r: room.id }, messageProbe(s.a, bob, room));
      await ack;
      await sub.live();
      await s.seed.send(alice, room, 'hello bob');
      await sub.next(1);
      expect(sub.values[0].messageAdded.body).toBe('hello bob');
      expect(sub.error).toBeNull();
      expect(closedWith).toBeNull();
    });

    it('closes an open socket with 4403 when its token expires', async () => {
      const user = await s.seed.user('ws');
      const token = await tokenExpiringIn(user.id, 3);
      let closedWith: number | null = null;
      await openSocket(s.a, user, {
        connectionParams: { authorization: `Bearer ${token}` },
        onClose: (code) => {
          closedWith = code;
        },
      });
      expect(closedWith).toBeNull();
      await eventually(async () => closedWith !== null, 'the socket to close', 6_000);
      expect(closedWith).toBe(4403);
    });
  });
});

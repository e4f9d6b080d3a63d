import { eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { closeCodeOf, codes, connected, eventually, gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { TEST_SECRET } from '../support/config.js';
import { badTokens, PASSWORD, seeder, tokenExpiringIn } from '../support/seed.js';
import { users, type App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const ME = '{ me { id username } }';
const REFRESH = 'mutation { refreshToken { token user { id username } } }';
const LOGIN = 'mutation($i: CredentialsInput!) { login(input: $i) { token user { id } } }';
const MY_EVENTS = 'subscription { myEvents { __typename } }';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown> & { exp: number; sub: string };
const reasons = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  (result.errors ?? []).map((e) => `${String(e.extensions?.code)}/${String(e.extensions?.reason)}`);

/** An HS256 token with the test secret and exactly these claims. */
const signed = (claims: Record<string, unknown>, secret = TEST_SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);

forEachBackend('Tokens', (s) => {
  const client = trackedClients();

  describe('Mutation.refreshToken', () => {
    it('returns a token for the viewer that lives a whole TTL from now and works on either instance', async () => {
      const user = await s.seed.user('refresh');
      const shortLived = await tokenExpiringIn(user.id, 60);
      const { refreshToken } = await gqlOk(s.a, REFRESH, {}, shortLived);
      expect(refreshToken.user).toEqual({ id: user.id, username: user.username });
      const claims = claimsOf(refreshToken.token);
      expect(claims.sub).toBe(user.id);
      expect(claims.exp).toBeGreaterThanOrEqual(nowSeconds() + 3600 - 5);
      expect((await gqlOk(s.b, ME, {}, refreshToken.token)).me.id).toBe(user.id);
    });

    it('refreshToken cannot extend a session past SESSION_MAX_AGE: refreshed tokens keep auth_time and never outlive it, and past it refreshing is TOKEN_EXPIRED', async () => {
      const maxAge = 120;
      const app = await s.backend.startApp({ sessions: { ...s.backend.config.sessions, maxAgeSeconds: maxAge } });
      const user = await s.seed.user('session');
      const before = nowSeconds();
      const { login } = await gqlOk(app, LOGIN, { i: { username: user.username, password: PASSWORD } });
      const signedIn = claimsOf(login.token);
      expect(signedIn.auth_time).toBeGreaterThanOrEqual(before);
      // JWT_TTL is an hour; the session's end comes first.
      expect(signedIn.exp).toBe((signedIn.auth_time as number) + maxAge);
      let token = login.token as string;
      for (let i = 0; i < 3; i++) {
        token = (await gqlOk(app, REFRESH, {}, token)).refreshToken.token;
        const claims = claimsOf(token);
        expect(claims.auth_time).toBe(signedIn.auth_time);
        expect(claims.exp).toBeLessThanOrEqual((signedIn.auth_time as number) + maxAge);
      }
      // A session that began longer ago than that, with a token still unexpired (one issued under a longer
      // JWT_TTL, say): it works, but refreshing it is refused, with or without auth_time (then iat counts).
      const began = nowSeconds() - maxAge - 1;
      const old = await signed({ sub: user.id, auth_time: began, iat: nowSeconds() - 10, exp: nowSeconds() + 3600 });
      const legacy = await signed({ sub: user.id, iat: began, exp: nowSeconds() + 3600 });
      for (const stale of [old, legacy]) {
        expect((await gqlOk(app, ME, {}, stale)).me.id).toBe(user.id);
        const refused = await gql(app, REFRESH, {}, stale);
        expect(reasons(refused)).toEqual(['UNAUTHENTICATED/TOKEN_EXPIRED']);
        expect(refused.errors![0]!.message).toMatch(/sign in again/);
      }
    });

    it('refreshes over the socket too, for the socket viewer', async () => {
      const user = await s.seed.user('refresh');
      const mutation = new Subscription(client(s.a, user.token), REFRESH);
      await mutation.next(1);
      expect(mutation.values[0].refreshToken.user.id).toBe(user.id);
    });

    it('refuses without a token (TOKEN_MISSING), with an expired one (TOKEN_EXPIRED) and a forged one (TOKEN_INVALID)', async () => {
      const user = await s.seed.user('refresh');
      const bad = await badTokens(user.id);
      expect(reasons(await gql(s.a, REFRESH))).toEqual(['UNAUTHENTICATED/TOKEN_MISSING']);
      expect(reasons(await gql(s.a, REFRESH, {}, bad.expired))).toEqual(['UNAUTHENTICATED/TOKEN_EXPIRED']);
      expect(reasons(await gql(s.a, REFRESH, {}, bad['signed with a different secret']))).toEqual([
        'UNAUTHENTICATED/TOKEN_INVALID',
      ]);
    });
  });

  describe('UNAUTHENTICATED extensions.reason over HTTP', () => {
    it('is TOKEN_MISSING without a token, and with an Authorization header of another scheme', async () => {
      expect(reasons(await gql(s.a, ME))).toEqual(['UNAUTHENTICATED/TOKEN_MISSING']);
      const basic = await fetch(`${s.a.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Basic dXNlcjpwYXNz' },
        body: JSON.stringify({ query: ME }),
      });
      expect(reasons((await basic.json()) as never)).toEqual(['UNAUTHENTICATED/TOKEN_MISSING']);
    });

    it('is TOKEN_EXPIRED for a well-signed token past its exp', async () => {
      const user = await s.seed.user('reason');
      const expired = await signed({ sub: user.id, iat: nowSeconds() - 100, exp: nowSeconds() - 1 });
      expect(reasons(await gql(s.a, ME, {}, expired))).toEqual(['UNAUTHENTICATED/TOKEN_EXPIRED']);
    });

    it('is TOKEN_INVALID for every other bad token: other secret (even expired), alg=none, HS512, no sub, no exp, over 8 KiB, garbage', async () => {
      const user = await s.seed.user('reason');
      const { expired: _expired, ...bad } = await badTokens(user.id);
      const tokens: Record<string, string> = {
        ...bad,
        'expired and signed with another secret': await signed(
          { sub: user.id, exp: nowSeconds() - 60 },
          new TextEncoder().encode('another-secret-that-is-at-least-32-bytes-long'),
        ),
        'without exp': await signed({ sub: user.id, iat: nowSeconds() }),
        'over 8 KiB, well signed': await signed({ sub: user.id, exp: nowSeconds() + 3600, pad: 'x'.repeat(8 * 1024) }),
        garbage: 'garbage',
        'three dots': 'a.b.c',
      };
      for (const [kind, token] of Object.entries(tokens)) {
        expect(reasons(await gql(s.a, ME, {}, token)), kind).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      }
      // The same token a little under 8 KiB is accepted: the length is the reason above.
      const under = await signed({ sub: user.id, exp: nowSeconds() + 3600, pad: 'x'.repeat(5 * 1024) });
      expect((await gqlOk(s.a, ME, {}, under)).me.id).toBe(user.id);
    });

    it('refuses the whole request when its token is bad, login included, rather than run it as nobody', async () => {
      const user = await s.seed.user('reason');
      const bad = await badTokens(user.id);
      const login = await gql(s.a, LOGIN, { i: { username: user.username, password: PASSWORD } }, bad.expired);
      expect(login.data ?? null).toBeNull();
      expect(reasons(login)).toEqual(['UNAUTHENTICATED/TOKEN_EXPIRED']);
      // Without the stale token the same login succeeds.
      expect(codes(await gql(s.a, LOGIN, { i: { username: user.username, password: PASSWORD } }))).toEqual([]);
    });

    it('gives a wrong login no token reason', async () => {
      const user = await s.seed.user('reason');
      const result = await gql(s.a, LOGIN, { i: { username: user.username, password: 'not the password' } });
      expect(reasons(result)).toEqual(['UNAUTHENTICATED/undefined']);
    });
  });

  describe('a socket whose token expires', () => {
    it('is closed with 4403 "Token expired" at the exp of its token, not before', async () => {
      const user = await s.seed.user('expiry');
      const token = await tokenExpiringIn(user.id, 2);
      const { exp } = claimsOf(token);
      let closed: { code: number; reason: string; at: number } | null = null;
      const socket = client(s.a, token, { onClose: (code, reason) => (closed = { code, reason, at: Date.now() }) });
      const ack = connected(socket);
      const events = new Subscription(socket, MY_EVENTS);
      await ack;
      expect(closed).toBeNull();
      const seen = await eventually(async () => closed, 'the expiry close', 5_000, 20);
      expect({ code: seen.code, reason: seen.reason }).toEqual({ code: 4403, reason: 'Token expired' });
      // exp is in whole seconds: the socket lives until that instant, and is closed right then.
      expect(seen.at).toBeGreaterThanOrEqual(exp * 1000);
      expect(seen.at - exp * 1000).toBeLessThan(1000);
      events.dispose();
    });
  });

  describe('JWT_ISSUER and JWT_AUDIENCE', () => {
    const issuer = 'https://chat.test';
    const audience = 'chat-clients';
    let app: App;
    beforeAll(async () => {
      app = await s.backend.startApp({ jwt: { ...s.backend.config.jwt, issuer, audience } });
    });

    it('puts them in every token it issues (register, login, refreshToken), and accepts those tokens', async () => {
      const user = await seeder(app).user('iss');
      expect(claimsOf(user.token)).toMatchObject({ iss: issuer, aud: audience, sub: user.id });
      const { login } = await gqlOk(app, LOGIN, { i: { username: user.username, password: PASSWORD } });
      expect(claimsOf(login.token)).toMatchObject({ iss: issuer, aud: audience });
      const { refreshToken } = await gqlOk(app, REFRESH, {}, login.token);
      expect(claimsOf(refreshToken.token)).toMatchObject({ iss: issuer, aud: audience });
      expect((await gqlOk(app, ME, {}, refreshToken.token)).me.id).toBe(user.id);
    });

    it('refuses tokens without them or with others (TOKEN_INVALID), and closes such a socket with 4403', async () => {
      const user = await seeder(app).user('iss');
      const exp = nowSeconds() + 3600;
      const tokens = {
        'neither iss nor aud': await signed({ sub: user.id, exp }),
        'no aud': await signed({ sub: user.id, exp, iss: issuer }),
        'no iss': await signed({ sub: user.id, exp, aud: audience }),
        'another iss': await signed({ sub: user.id, exp, iss: 'https://evil.test', aud: audience }),
        'another aud': await signed({ sub: user.id, exp, iss: issuer, aud: 'other-app' }),
      };
      for (const [kind, token] of Object.entries(tokens)) {
        expect(reasons(await gql(app, ME, {}, token)), kind).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      }
      expect(await closeCodeOf(client, app, { authorization: `Bearer ${tokens['neither iss nor aud']}` })).toBe(4403);
      // Tokens of the servers without JWT_ISSUER are refused here too.
      expect(reasons(await gql(app, ME, {}, (await s.seed.user('plain')).token))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      expect((await gqlOk(app, ME, {}, await signed({ sub: user.id, exp, iss: issuer, aud: audience }))).me.id).toBe(user.id);
    });
  });

  describe('a user deleted from the database', () => {
    /** Deletes a user who has written nothing (memberships and reactions go with them). */
    const deleteUser = async (id: string) => {
      const { db } = await s.backend.database();
      await db.delete(users).where(eq(users.id, id));
    };

    it('a deleted user’s token stops working: over HTTP, at connection_init, on an open socket, and as a user others look up', async () => {
      const app = await s.backend.startApp({ sessions: { ...s.backend.config.sessions, userRecheckMs: 300 } });
      const [alice, bob] = await s.seed.users('alice', 'bob');
      // Everything that could remember alice does: her token verified, her socket open, her row cached.
      expect((await gqlOk(app, ME, {}, alice.token)).me.id).toBe(alice.id);
      let closed: { code: number; reason: string } | null = null;
      const socket = client(app, alice.token, { onClose: (code, reason) => (closed = { code, reason }) });
      const ack = connected(socket);
      const events = new Subscription(socket, MY_EVENTS);
      await ack;
      const LOOK_UP = 'query($id: ID!) { user(id: $id) { id } }';
      expect((await gqlOk(app, LOOK_UP, { id: alice.id }, bob.token)).user).toEqual({ id: alice.id });

      await deleteUser(alice.id);
      // Within the recheck bound (generously: the deadline is for a loaded machine).
      await eventually(
        async () => reasons(await gql(app, ME, {}, alice.token))[0] === 'UNAUTHENTICATED/TOKEN_INVALID',
        'alice’s token to be refused over HTTP',
        5_000,
        50,
      );
      const seen = await eventually(async () => closed, 'alice’s open socket to close', 5_000, 50);
      expect(seen).toEqual({ code: 4403, reason: 'Forbidden' });
      expect(await closeCodeOf(client, app, { authorization: `Bearer ${alice.token}` })).toBe(4403);
      await eventually(
        async () => (await gqlOk(app, LOOK_UP, { id: alice.id }, bob.token)).user === null,
        'alice to be unknown to bob',
        5_000,
        50,
      );
      // Another instance that never saw her token refuses it at once.
      expect(reasons(await gql(s.b, ME, {}, alice.token))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      events.dispose();
    });

    it('refreshToken refuses a deleted user (TOKEN_INVALID), however recently the user and the token were seen', async () => {
      // Nothing is re-checked by time here: the refusal comes from refreshToken itself.
      const app = await s.backend.startApp({ sessions: { ...s.backend.config.sessions, userRecheckMs: 3_600_000 } });
      const alice = await s.seed.user('alice');
      expect((await gqlOk(app, ME, {}, alice.token)).me.id).toBe(alice.id);
      await deleteUser(alice.id);
      expect(reasons(await gql(app, REFRESH, {}, alice.token))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
    });
  });

  describe('password hashes of older scrypt parameters', () => {
    it('verifies a 2^14 hash at login and replaces it with one of the configured cost', async () => {
      const before = await s.backend.startApp({ passwords: { scryptN: 2 ** 14 } });
      const after = await s.backend.startApp({ passwords: { scryptN: 2 ** 15 } });
      const { db } = await s.backend.database();
      const alice = await seeder(before).user('alice');
      const stored = async () =>
        (await db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, alice.id)))[0]!.hash!;
      const old = await stored();
      expect(old).toMatch(/^scrypt\$16384\$8\$1\$/);

      const login = (app: App, password: string) => gql(app, LOGIN, { i: { username: alice.username, password } });
      expect(codes(await login(after, 'not the password'))).toEqual(['UNAUTHENTICATED']);
      expect(await stored()).toBe(old); // a wrong password changes nothing

      expect(codes(await login(after, PASSWORD))).toEqual([]);
      const upgraded = await stored();
      expect(upgraded).toMatch(/^scrypt\$32768\$8\$1\$/);
      expect(codes(await login(after, PASSWORD))).toEqual([]);
      // The instance still on 2^14 verifies the new hash and does not weaken it.
      expect(codes(await login(before, PASSWORD))).toEqual([]);
      expect(await stored()).toBe(upgraded);
    });
  });
});

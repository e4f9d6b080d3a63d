import { createHash, randomBytes } from 'node:crypto';
import { exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCodeOf, codes, connected, gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { TEST_SECRET } from '../support/config.js';
import {
  startHangingEndpoint,
  startIdentityProvider,
  type IdentityProvider,
  type ProviderKey,
} from '../support/identity-provider.js';
import { PASSWORD, seeder, uniqueName } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const ME = '{ me { id username } }';
const REGISTER = 'mutation($i: CredentialsInput!) { register(input: $i) { token user { id } } }';
const LOGIN = 'mutation($i: CredentialsInput!) { login(input: $i) { token user { id } } }';
const REFRESH = 'mutation { refreshToken { token } }';
const MY_EVENTS = 'subscription { myEvents { __typename } }';

const reasons = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  (result.errors ?? []).map((e) => `${String(e.extensions?.code)}/${String(e.extensions?.reason)}`);
const subject = () => `provider|${randomBytes(6).toString('hex')}`;
const hashTag = (sub: string) => createHash('sha256').update(sub).digest('hex').slice(0, 6);

forEachBackend('An identity provider (JWT_JWKS_URL)', (s) => {
  const client = trackedClients();
  const providers: IdentityProvider[] = [];
  let provider: IdentityProvider;
  let rsa: ProviderKey;
  let ec: ProviderKey;
  let app: App;

  const newProvider = async () => {
    const p = await startIdentityProvider();
    providers.push(p);
    return p;
  };

  beforeAll(async () => {
    provider = await newProvider();
    rsa = await provider.addKey('RS256');
    ec = await provider.addKey('ES256');
    app = await s.backend.startApp(provider.config(s.backend.config));
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
  });

  describe('first-sight provisioning', () => {
    it('creates a user from sub, named by preferred_username, and finds the same user for the same sub on any instance', async () => {
      const sub = subject();
      const name = uniqueName('carol');
      const first = await provider.token({ key: rsa, claims: { sub, preferred_username: name } });
      const me = (await gqlOk(app, ME, {}, first)).me;
      expect(me).toEqual({ id: expect.any(String), username: name });
      // Another token of the same subject (another key, a later claim) is the same user, on another instance too.
      const other = await s.backend.startApp(provider.config(s.backend.config));
      const second = await provider.token({
        key: ec,
        claims: { sub, preferred_username: 'renamed', exp: Math.floor(Date.now() / 1000) + 600 },
      });
      expect((await gqlOk(other, ME, {}, second)).me).toEqual(me);
      expect((await gqlOk(app, ME, {}, second)).me).toEqual(me);
    });

    it('authenticates a socket from connection_init, provisioning a subject seen there first', async () => {
      const sub = subject();
      const name = uniqueName('wsuser');
      const token = await provider.token({ key: ec, claims: { sub, preferred_username: name } });
      const query = new Subscription(client(app, token), ME);
      await query.next(1);
      const me = query.values[0].me;
      expect(me.username).toBe(name);
      expect((await gqlOk(app, ME, {}, token)).me).toEqual(me);
    });

    it('makes a taken, odd or missing username valid and unique by one deterministic rule', async () => {
      const name = uniqueName('dana');
      const [a, b, c] = [subject(), subject(), subject()];
      const meOf = async (sub: string, claims: Record<string, unknown>) =>
        (await gqlOk(app, ME, {}, await provider.token({ key: rsa, claims: { sub, ...claims } }))).me.username;
      expect(await meOf(a, { preferred_username: name })).toBe(name);
      expect(await meOf(b, { preferred_username: name })).toBe(`${name}-${hashTag(b)}`);
      expect(await meOf(b, { preferred_username: name })).toBe(`${name}-${hashTag(b)}`);
      expect(await meOf(c, {})).toBe(`user-${hashTag(c)}`);
      const suffix = randomBytes(3).toString('hex');
      expect(await meOf(subject(), { preferred_username: `Zoë Smith ${suffix}` })).toBe(`Zoe_Smith_${suffix}`);
    });
  });

  describe('tokens never accepted', () => {
    it('an algorithm outside JWT_ALGORITHMS, though its key is in the set (PS256)', async () => {
      const ps = await provider.addKey('PS256');
      const fresh = await s.backend.startApp(provider.config(s.backend.config));
      const token = await provider.token({ key: ps, claims: { sub: subject() } });
      expect(reasons(await gql(fresh, ME, {}, token))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
    });

    it('an HS256 token signed with the public key material (PEM or JWK)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: subject(), iss: provider.issuer, aud: provider.audience, iat: now, exp: now + 3600 };
      const secrets = [await exportSPKI(rsa.publicKey), JSON.stringify(rsa.jwk), rsa.jwk.n!];
      for (const secret of secrets) {
        const token = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' })
          .sign(new TextEncoder().encode(secret));
        expect(reasons(await gql(app, ME, {}, token))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
        expect(await closeCodeOf(client, app, { authorization: `Bearer ${token}` })).toBe(4403);
      }
    });

    it('a token without exp or without sub; an expired one is TOKEN_EXPIRED', async () => {
      const now = Math.floor(Date.now() / 1000);
      const noExp = await provider.token({ key: rsa, claims: { sub: subject(), exp: null } });
      const noSub = await provider.token({ key: rsa, claims: {} });
      const expired = await provider.token({ key: rsa, claims: { sub: subject(), iat: now - 120, exp: now - 60 } });
      expect(reasons(await gql(app, ME, {}, noExp))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      expect(reasons(await gql(app, ME, {}, noSub))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      expect(reasons(await gql(app, ME, {}, expired))).toEqual(['UNAUTHENTICATED/TOKEN_EXPIRED']);
      expect(await closeCodeOf(client, app, { authorization: `Bearer ${noExp}` })).toBe(4403);
    });

    it('another issuer, another audience, or none', async () => {
      const tokens = {
        'another iss': await provider.token({ key: rsa, claims: { sub: subject(), iss: 'https://evil.test/' } }),
        'another aud': await provider.token({ key: rsa, claims: { sub: subject(), aud: 'another-api' } }),
        'no iss': await provider.token({ key: rsa, claims: { sub: subject(), iss: null } }),
        'no aud': await provider.token({ key: rsa, claims: { sub: subject(), aud: null } }),
      };
      for (const [kind, token] of Object.entries(tokens)) {
        expect(reasons(await gql(app, ME, {}, token)), kind).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      }
    });

    it('a token over 8 KiB, refused before its keys are even fetched', async () => {
      const own = await newProvider();
      const key = await own.addKey('RS256');
      const fresh = await s.backend.startApp(own.config(s.backend.config));
      const big = await own.token({ key, claims: { sub: subject(), pad: 'x'.repeat(8 * 1024) } });
      expect(big.length).toBeGreaterThan(8 * 1024);
      expect(reasons(await gql(fresh, ME, {}, big))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      expect(await closeCodeOf(client, fresh, { authorization: `Bearer ${big}` })).toBe(4403);
      expect(own.requests).toBe(0);
      // A normal token of the same key then fetches the set and passes.
      expect(codes(await gql(fresh, ME, {}, await own.token({ key, claims: { sub: subject() } })))).toEqual([]);
      expect(own.requests).toBe(1);
    });
  });

  describe('key rotation', () => {
    it('accepts a token of a new kid once the provider serves it, fetching the set again for it', async () => {
      const own = await newProvider();
      const first = await own.addKey('RS256');
      const rotating = await s.backend.startApp(own.config(s.backend.config, { cooldownMs: 0 }));
      expect(codes(await gql(rotating, ME, {}, await own.token({ key: first, claims: { sub: subject() } })))).toEqual([]);
      expect(own.requests).toBe(1);
      const next = await own.addKey('RS256'); // rotated in at the provider: unknown to the server's cache
      expect(codes(await gql(rotating, ME, {}, await own.token({ key: next, claims: { sub: subject() } })))).toEqual([]);
      expect(own.requests).toBe(2);
      // Known kids need no fetch.
      expect(codes(await gql(rotating, ME, {}, await own.token({ key: first, claims: { sub: subject() } })))).toEqual([]);
      expect(own.requests).toBe(2);
    });

    it('within the cooldown after a fetch, refuses an unknown kid without fetching again', async () => {
      const own = await newProvider();
      const first = await own.addKey('RS256');
      const cooling = await s.backend.startApp(own.config(s.backend.config)); // the default 30 s cooldown
      expect(codes(await gql(cooling, ME, {}, await own.token({ key: first, claims: { sub: subject() } })))).toEqual([]);
      const next = await own.addKey('RS256');
      const token = await own.token({ key: next, claims: { sub: subject() } });
      for (let i = 0; i < 5; i++) expect(reasons(await gql(cooling, ME, {}, token))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      expect(own.requests).toBe(1);
    });
  });

  it('fails verification within 5 s when the key set endpoint hangs: UNAUTHENTICATED over HTTP, 4403 over WebSocket', async () => {
    const hanging = await startHangingEndpoint();
    try {
      const stuck = await s.backend.startApp(provider.config(s.backend.config, { url: hanging.url }));
      const token = await provider.token({ key: rsa, claims: { sub: subject() } });
      const started = Date.now();
      const [http, ws] = await Promise.all([
        gql(stuck, ME, {}, token),
        closeCodeOf(client, stuck, { authorization: `Bearer ${token}` }, 8000),
      ]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(reasons(http)).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      expect(ws).toBe(4403);
    } finally {
      await hanging.close();
    }
  });

  describe('without LOCAL_AUTH', () => {
    it('refuses register and login with FORBIDDEN, and refreshToken too: the provider issues tokens', async () => {
      const input = { i: { username: uniqueName('local'), password: PASSWORD } };
      expect(codes(await gql(app, REGISTER, input))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(app, LOGIN, input))).toEqual(['FORBIDDEN']);
      const token = await provider.token({ key: rsa, claims: { sub: subject() } });
      expect(codes(await gql(app, REFRESH, {}, token))).toEqual(['FORBIDDEN']);
    });
  });

  describe('with LOCAL_AUTH=true', () => {
    it("serves register and login, accepts their HS256 tokens beside the provider's, and still refuses HS256 with the public key", async () => {
      const both = await s.backend.startApp(
        provider.config(
          s.backend.config,
          {},
          { localAuth: true, jwt: { ...provider.config(s.backend.config).jwt!, secret: TEST_SECRET } },
        ),
      );
      const local = await seeder(both).user('local');
      expect((await gqlOk(both, ME, {}, local.token)).me.id).toBe(local.id);
      const { login } = await gqlOk(both, LOGIN, { i: { username: local.username, password: PASSWORD } });
      expect((await gqlOk(both, ME, {}, login.token)).me.id).toBe(local.id);
      const external = await provider.token({ key: ec, claims: { sub: subject(), preferred_username: uniqueName('ext') } });
      expect(codes(await gql(both, ME, {}, external))).toEqual([]);
      const now = Math.floor(Date.now() / 1000);
      const forged = await new SignJWT({ sub: local.id, exp: now + 3600 })
        .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
        .sign(new TextEncoder().encode(await exportSPKI(rsa.publicKey)));
      expect(reasons(await gql(both, ME, {}, forged))).toEqual(['UNAUTHENTICATED/TOKEN_INVALID']);
      // A socket signs in with the local token too.
      const socket = client(both, local.token);
      const ack = connected(socket);
      const events = new Subscription(socket, MY_EVENTS);
      await ack;
      events.dispose();
    });
  });
});

import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { PASSWORD, type TestUser } from '../support/seed.js';
import { UsersStore, type App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const USERS = 'query($q: String!, $first: Int) { users(query: $q, first: $first) { id username online } }';
const REGISTER = 'mutation($input: CredentialsInput!) { register(input: $input) { token user { id username } } }';

/** A username stem no other test of the file shares (the database is shared within a file): lower-case letters and digits. */
const stem = () => `f${randomBytes(5).toString('hex')}`;

forEachBackend('Query.users', (s) => {
  const client = trackedClients();

  const register = async (username: string, app: App = s.a): Promise<TestUser> => {
    const data = await gqlOk(app, REGISTER, { input: { username, password: PASSWORD } });
    return { id: data.register.user.id, username, token: data.register.token };
  };
  const find = (viewer: TestUser, q: string, first?: number | null, app: App = s.a) =>
    gql(app, USERS, first === undefined ? { q } : { q, first }, viewer.token);
  const names = async (viewer: TestUser, q: string, first?: number | null, app: App = s.a): Promise<string[]> => {
    const result = await find(viewer, q, first, app);
    expect(result.errors).toBeUndefined();
    return result.data.users.map((u: { username: string }) => u.username);
  };

  describe('matching', () => {
    it('finds the users whose username starts with the query, ordered by username, and nobody else', async () => {
      const x = stem();
      const viewer = await s.seed.user('viewer');
      for (const name of [`${x}_carol`, `${x}-bob`, `${x}.dave`, `${x}alice`, `y${x}alice`, `${x.slice(0, -1)}`])
        await register(name);
      // Byte order of the lower-cased names: '-' < '.' < '_' < letters.
      expect(await names(viewer, x)).toEqual([`${x}-bob`, `${x}.dave`, `${x}_carol`, `${x}alice`]);
      expect(await names(viewer, `${x}a`, null, s.b)).toEqual([`${x}alice`]);
      expect(await names(viewer, `${x}alicex`)).toEqual([]);
    });

    it('returns each user with id, username as registered and presence', async () => {
      const x = stem();
      const [viewer, found] = [await s.seed.user('viewer'), await register(`${x}Erin`)];
      const result = await gqlOk(s.a, USERS, { q: x }, viewer.token);
      expect(result.users).toEqual([{ id: found.id, username: `${x}Erin`, online: false }]);
    });

    it('ignores letter case in the query and in usernames, and answers usernames as registered', async () => {
      const x = stem();
      const viewer = await s.seed.user('viewer');
      await register(`${x.toUpperCase()}Frank`);
      await register(`${x}george`);
      for (const q of [x, x.toUpperCase(), `${x.slice(0, 3).toUpperCase()}${x.slice(3)}`]) {
        expect(await names(viewer, q)).toEqual([`${x.toUpperCase()}Frank`, `${x}george`]);
      }
      expect(await names(viewer, `${x}FR`)).toEqual([`${x.toUpperCase()}Frank`]);
    });

    it('takes LIKE metacharacters literally: _ matches only an underscore, % and \\ match nothing', async () => {
      const x = stem();
      const viewer = await s.seed.user('viewer');
      await register(`${x}_under`);
      await register(`${x}ax`);
      await register(`${x}bx`);
      expect(await names(viewer, `${x}_`)).toEqual([`${x}_under`]);
      expect(await names(viewer, `${x}%`)).toEqual([]);
      expect(await names(viewer, `${x}%x`)).toEqual([]);
      expect(await names(viewer, '%')).toEqual([]);
      expect(await names(viewer, `${x}\\`)).toEqual([]);
      expect(await names(viewer, `${x}\\_`)).toEqual([]);
      // Without the metacharacters, all three are found.
      expect(await names(viewer, x)).toHaveLength(3);
    });

    it('finds nobody for a query with characters no username has (spaces, letters outside ASCII)', async () => {
      const x = stem();
      const viewer = await s.seed.user('viewer');
      await register(`${x}zoe`);
      expect(await names(viewer, `${x} `)).toEqual([]);
      expect(await names(viewer, `${x}zoë`)).toEqual([]);
      expect(await names(viewer, `${x}Z`)).toEqual([`${x}zoe`]);
    });

    it('answers over graphql-ws as over HTTP', async () => {
      const x = stem();
      const viewer = await s.seed.user('viewer');
      await register(`${x}henry`);
      const sub = new Subscription(client(s.b, viewer.token), USERS, { q: `${x}HEN` });
      await sub.settled();
      expect(sub.error).toBeNull();
      expect(sub.values).toEqual([{ users: [{ id: expect.any(String), username: `${x}henry`, online: false }] }]);
    });
  });

  describe('limits', () => {
    it('returns 20 users by default, and as many as first asks from 1 to 50', async () => {
      const x = stem();
      const viewer = await s.seed.user('viewer');
      const all = Array.from({ length: 52 }, (_, i) => `${x}u${String(i).padStart(2, '0')}`);
      for (const name of all) await register(name);
      expect(await names(viewer, x)).toEqual(all.slice(0, 20));
      expect(await names(viewer, x, null)).toEqual(all.slice(0, 20));
      expect(await names(viewer, x, 1)).toEqual(all.slice(0, 1));
      expect(await names(viewer, x, 50)).toEqual(all.slice(0, 50));
    });

    it('refuses first below 1 or above 50 with BAD_USER_INPUT', async () => {
      const viewer = await s.seed.user('viewer');
      for (const first of [0, -1, 51, 1000]) {
        const result = await find(viewer, 'abc', first);
        expect(codes(result), `first: ${first}`).toEqual(['BAD_USER_INPUT']);
        expect(result.errors![0]!.message).toContain('first');
      }
    });

    it('refuses an empty query and one over 32 characters with BAD_USER_INPUT, and takes 32', async () => {
      const viewer = await s.seed.user('viewer');
      expect(codes(await find(viewer, ''))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await find(viewer, 'a'.repeat(33)))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await find(viewer, '😀'.repeat(33)))).toEqual(['BAD_USER_INPUT']);
      const longest = `${stem()}${'q'.repeat(21)}`;
      await register(longest);
      expect(await names(viewer, longest)).toEqual([longest]);
    });

    it('refuses a request without a token with UNAUTHENTICATED (TOKEN_MISSING)', async () => {
      const result = await gql(s.a, USERS, { q: 'abc' });
      expect(codes(result)).toEqual(['UNAUTHENTICATED']);
      expect(result.errors![0]!.extensions?.reason).toBe('TOKEN_MISSING');
      expect(result.data).toBeNull();
    });

    it('limits each user to RATE_LIMIT_USER_SEARCH calls per window (across instances with Redis), with retryAfter; others go on', async () => {
      const base = s.backend.config;
      // Instances of their own, sharing a fresh Redis prefix: their counts start at zero. Without Redis each
      // instance counts for itself, so there the calls all go to one.
      const tag = `${base.redisPrefix}${randomBytes(4).toString('hex')}:`;
      const limited = { redisPrefix: tag, rateLimits: { ...base.rateLimits, userSearch: { points: 3, seconds: 3600 } } };
      const [one, two] = await Promise.all([s.backend.startApp(limited), s.backend.startApp(limited)]);
      const [viewer, someoneElse] = await Promise.all([s.seed.user('viewer'), s.seed.user('other')]);
      const other = s.name === 'services' ? two : one;
      expect(codes(await find(viewer, 'abc', 5, one))).toEqual([]);
      expect(codes(await find(viewer, 'abc', 5, other))).toEqual([]);
      expect(codes(await find(viewer, 'abc', 5, one))).toEqual([]);
      const refused = await find(viewer, 'abc', 5, other);
      expect(codes(refused)).toEqual(['RATE_LIMITED']);
      const retryAfter = refused.errors![0]!.extensions?.retryAfter;
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(codes(await find(someoneElse, 'abc', 5, one))).toEqual([]);
    });
  });

  describe('the index', () => {
    it('serves the prefix from users_username_prefix_idx, in order, even as a generic plan with the prefix a parameter', async () => {
      const { db } = await s.backend.database();
      // Enough rows that a sequential scan would cost more.
      const x = stem();
      await db.execute(sql.raw(`insert into users (username) select '${x}' || g from generate_series(1, 3000) g`));
      await db.execute(sql.raw('analyze users'));
      const query = new UsersStore(db).usernamePrefixQuery(`${x}12`, 20).toSQL();
      const plan = await db.transaction(async (tx) => {
        await tx.execute(sql.raw(`set local plan_cache_mode = force_generic_plan`));
        await tx.execute(sql.raw(`prepare find_users_${x} as ${query.sql}`));
        const result = await tx.execute(sql.raw(`explain (format json) execute find_users_${x}('${x}12', '${x}13', 20)`));
        await tx.execute(sql.raw(`deallocate find_users_${x}`));
        return JSON.stringify((result as { rows?: unknown[] }).rows ?? result);
      });
      expect(plan).toContain('users_username_prefix_idx');
      expect(plan).not.toContain('Seq Scan');
      expect(plan).not.toContain('"Sort"');
      // The same store finds them: 12, 120-129, 1200-1299 … the first 20 in byte order.
      const viewer = await s.seed.user('viewer');
      const found = await names(viewer, `${x}12`);
      expect(found).toHaveLength(20);
      expect(found.slice(0, 3)).toEqual([`${x}12`, `${x}120`, `${x}1200`]);
    });
  });
});

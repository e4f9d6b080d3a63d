import type { PasswordHasher } from '../../auth/passwords.js';
import type { TokenIssuer } from '../../auth/tokens.js';
import type { Viewer } from '../../auth/viewer.js';
import type { UserRow } from '../../db/schema.js';
import { badInput, forbidden, rateLimited, unauthenticated } from '../../errors.js';
import { enforce, type Limits } from '../../limits/index.js';
import type { Presence } from '../../realtime/presence.js';
import { codePoints, requireCharacters, requireLength, requireWellFormed } from '../../validation.js';
import { USERNAME, usernameCandidates } from './usernames.js';
import type { AuthResult } from './users.mappers.js';
import type { UsersStore } from './users.store.js';

const WRONG_LOGIN = 'Wrong username or password';
/** Query.users: the contract's bounds on query (code points) and first, and first's default. */
const FIND_QUERY_MAX = 32;
export const FIND_MAX = 50;
const FIND_DEFAULT = 20;
/** What a username may hold: a query with anything else starts no username. */
const USERNAME_CHARACTERS = /^[A-Za-z0-9_.-]+$/;

export interface UsersAuth {
  /** Hashes and checks passwords with the configured scrypt cost. */
  hasher: PasswordHasher;
  /** Signs this server's tokens; null when it issues none (an identity provider without LOCAL_AUTH). */
  issuer: TokenIssuer | null;
  /** register and login are served (LOCAL_AUTH). */
  localAuth: boolean;
  /** Tokens come from an identity provider (JWT_JWKS_URL). */
  provider: boolean;
  /** How long a session lasts from its sign-in, refreshes included (SESSION_MAX_AGE). */
  sessionMaxAgeSeconds: number;
}

/** Who a provider's token names: its issuer, subject and the claim the username is made from. */
export interface ExternalIdentity {
  issuer: string;
  subject: string;
  username: unknown;
}

export class UsersService {
  /**
   * Users are not renamed, so rows are cached process-wide: subscription
   * events resolve `author` without a query. But a user can be deleted, so
   * a row is kept only `cacheMs` (USER_RECHECK_MS): a deleted user stops
   * being found (openDirectRoom, inviteToRoom) within that bound.
   */
  private readonly cache = new Map<string, { row: UserRow; until: number }>();
  private static readonly CACHE_SIZE = 10_000;

  constructor(
    private readonly store: UsersStore,
    private readonly auth: UsersAuth,
    private readonly presence: Presence,
    private readonly limits: Pick<Limits, 'loginUser' | 'loginSuccess' | 'loginIp' | 'registerIp' | 'userSearch'>,
    private readonly options: { cacheMs: number },
  ) {}

  /** Every call counts against the client IP's registrations, a refused one too. */
  async register(username: string, password: string, clientIp: string): Promise<AuthResult> {
    this.requireLocalAuth();
    await enforce(this.limits.registerIp, clientIp);
    if (!USERNAME.test(username)) {
      throw badInput('username must be 3-32 characters of letters, digits, _ . or -', 'username');
    }
    requireLength('password', password, 8, 256);
    const user = await this.store.insert(username, await this.auth.hasher.hash(password));
    if (!user) throw badInput('username is taken', 'username');
    return this.signedIn(user);
  }

  /**
   * One error for an unknown user and a wrong password, and the same scrypt
   * cost for both. Each attempt spends a point of the client IP's and the
   * username's failed logins before the password is checked (so concurrent
   * guesses cannot slip past the limit), and a right one gets them back: once
   * a username's failures are spent, even its right password is refused
   * until the window ends. Likewise each attempt spends a point of the
   * username's successful logins, which a wrong one gets back: the right
   * password cannot make this run scrypt without bound either. A hash made
   * with weaker scrypt parameters than the current ones is replaced once the
   * password proved right.
   */
  async login(username: string, password: string, clientIp: string): Promise<AuthResult> {
    this.requireLocalAuth();
    requireWellFormed('password', password); // as register refuses it: no stored password has a lone surrogate
    await enforce(this.limits.loginIp, clientIp);
    // A name that long is no username; it counts per IP only.
    const nameKey = username.length <= 64 ? username.toLowerCase() : null;
    if (nameKey !== null) {
      const verdict = await this.limits.loginUser.consume(nameKey);
      if (!verdict.allowed) throw rateLimited(verdict.retryAfter, 'Too many failed logins for this username; try again later');
    }
    if (codePoints(password) > 256 || nameKey === null) throw unauthenticated(WRONG_LOGIN);
    const notFailed = () => Promise.all([this.limits.loginIp.refund(clientIp), this.limits.loginUser.refund(nameKey)]);
    const success = await this.limits.loginSuccess.consume(nameKey);
    if (!success.allowed) {
      await notFailed(); // refused before any password was checked: not a failed login
      throw rateLimited(success.retryAfter, 'Too many logins for this username; try again later');
    }
    let user: UserRow | null = null;
    let ok = false;
    let rehash = false;
    try {
      const { hasher } = this.auth;
      user = USERNAME.test(username) ? await this.store.findByUsername(username) : null;
      // A provisioned user has no password: the decoy, so nothing signs in as them.
      ({ ok, rehash } = await hasher.verify(password, user?.passwordHash ?? (await hasher.decoyHash())));
    } finally {
      if (!user || !ok) await this.limits.loginSuccess.refund(nameKey);
    }
    if (!user || !ok) throw unauthenticated(WRONG_LOGIN);
    await notFailed();
    if (rehash) await this.store.setPasswordHash(user.id, await this.auth.hasher.hash(password));
    return this.signedIn(user);
  }

  /**
   * A new token for a viewer whose token is still valid, in the same
   * session: it keeps the session's start (`auth_time`), and its exp never
   * passes the session's end, so refreshing cannot keep a session alive past
   * SESSION_MAX_AGE; past it, this answers TOKEN_EXPIRED. (A token without
   * `auth_time` began its session at its `iat`; one with neither is past it.)
   * With an identity provider the provider issues and refreshes tokens, so
   * this refuses.
   */
  async refreshToken(viewer: Viewer): Promise<AuthResult> {
    if (this.auth.provider) {
      throw forbidden('Tokens come from the identity provider here: refresh them with the provider');
    }
    const signedInAt = viewer.signedInAt ?? 0;
    if (Math.floor(Date.now() / 1000) >= signedInAt + this.auth.sessionMaxAgeSeconds) {
      throw unauthenticated('This session has reached its maximum age: sign in again', 'TOKEN_EXPIRED');
    }
    // From the database, not the cache: a deleted user gets no new token, however recently their row was read.
    const [user] = await this.store.findByIds([viewer.userId]);
    if (!user) throw unauthenticated('The token names no user', 'TOKEN_INVALID');
    return this.signedIn(user, signedInAt);
  }

  /**
   * The user of a provider's subject, created on first sight with a
   * username made from the claim (usernames.ts says how, and what happens
   * when it is taken or missing). Later changes of the claim change nothing.
   */
  async provision(identity: ExternalIdentity): Promise<UserRow> {
    const { issuer, subject } = identity;
    const existing = await this.store.findByExternal(issuer, subject);
    if (existing) return existing;
    for (const username of usernameCandidates(identity.username, subject)) {
      const inserted = await this.store.insertExternal(username, issuer, subject);
      if (inserted === 'username-taken') continue;
      const user = inserted ?? (await this.store.findByExternal(issuer, subject));
      if (user) return user;
    }
    throw new Error('no free username for a provisioned user');
  }

  /**
   * Query.users: the users whose username starts with `query` regardless of
   * case, by username. Each call spends a point of the viewer's user-search
   * limit first (a refused or malformed one too: the limit bounds what a
   * viewer can make the server do). The query is matched as typed: `%`, `_`
   * and backslashes are characters like the others, never patterns. A query with a
   * character no username holds finds nobody without asking the database.
   */
  async findByUsernamePrefix(viewer: Viewer, query: string, first: number | null | undefined): Promise<UserRow[]> {
    await enforce(this.limits.userSearch, viewer.userId);
    requireCharacters('query', query, 1, FIND_QUERY_MAX);
    const limit = first ?? FIND_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > FIND_MAX) {
      throw badInput(`first must be 1-${FIND_MAX}, got ${limit}`, 'first');
    }
    if (!USERNAME_CHARACTERS.test(query)) return [];
    return this.store.findByUsernamePrefix(query.toLowerCase(), limit);
  }

  /** Rows for ids, in the same order; null where there is none. */
  async findByIds(ids: readonly string[]): Promise<Array<UserRow | null>> {
    const now = Date.now();
    const fresh = (id: string) => {
      const entry = this.cache.get(id);
      return entry !== undefined && now < entry.until ? entry.row : null;
    };
    const missing = [...new Set(ids.filter((id) => fresh(id) === null))];
    if (missing.length === 0) return ids.map(fresh);
    const found = new Map((await this.store.findByIds(missing)).map((row) => [row.id, row]));
    const until = Date.now() + this.options.cacheMs;
    for (const id of missing) {
      this.cache.delete(id); // re-inserted last (the newest), or gone with its user
      const row = found.get(id);
      if (!row) continue;
      if (this.cache.size >= UsersService.CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(id, { row, until });
    }
    return ids.map((id) => fresh(id) ?? found.get(id) ?? null);
  }

  /** User.online: connected to any instance right now. */
  isOnline(userIds: readonly string[]): Promise<boolean[]> {
    return this.presence.isOnline(userIds);
  }

  async findById(id: string): Promise<UserRow | null> {
    const [row] = await this.findByIds([id]);
    return row ?? null;
  }

  private requireLocalAuth(): void {
    if (!this.auth.localAuth) {
      throw forbidden('Accounts come from the identity provider here: sign in with it and send its token');
    }
  }

  /** A token for the user, in a new session or (refreshToken) the one that began at `signedInAt`. */
  private async signedIn(user: UserRow, signedInAt?: number): Promise<AuthResult> {
    // Config guarantees an issuer wherever register, login or refreshToken get this far.
    if (!this.auth.issuer) throw new Error('this server issues no tokens');
    return { token: await this.auth.issuer.sign(user.id, signedInAt), user };
  }
}

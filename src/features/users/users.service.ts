import { decoyHash, hashPassword, verifyPassword } from '../../auth/passwords.js';
import type { TokenIssuer } from '../../auth/tokens.js';
import type { UserRow } from '../../db/schema.js';
import { badInput, unauthenticated } from '../../errors.js';
import type { Presence } from '../../realtime/presence.js';
import { codePoints, requireLength, requireWellFormed } from '../../validation.js';
import type { AuthResult } from './users.mappers.js';
import type { UsersStore } from './users.store.js';

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;
const WRONG_LOGIN = 'Wrong username or password';

export class UsersService {
  /**
   * Users are immutable once created (no rename), so rows are cached
   * process-wide: subscription events resolve `author` without a query.
   */
  private readonly cache = new Map<string, UserRow>();
  private static readonly CACHE_SIZE = 10_000;

  constructor(
    private readonly store: UsersStore,
    private readonly tokens: TokenIssuer,
    private readonly presence: Presence,
  ) {}

  async register(username: string, password: string): Promise<AuthResult> {
    if (!USERNAME.test(username)) {
      throw badInput('username must be 3-32 characters of letters, digits, _ . or -', 'username');
    }
    requireLength('password', password, 8, 256);
    const user = await this.store.insert(username, await hashPassword(password));
    if (!user) throw badInput('username is taken', 'username');
    return { token: await this.tokens.sign(user.id), user };
  }

  /** One error for an unknown user and a wrong password, and the same scrypt cost for both. */
  async login(username: string, password: string): Promise<AuthResult> {
    requireWellFormed('password', password); // as register refuses it: no stored password has a lone surrogate
    if (codePoints(password) > 256 || username.length > 64) throw unauthenticated(WRONG_LOGIN);
    const user = USERNAME.test(username) ? await this.store.findByUsername(username) : null;
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !ok) throw unauthenticated(WRONG_LOGIN);
    return { token: await this.tokens.sign(user.id), user };
  }

  /** Rows for ids, in the same order; null where there is none. */
  async findByIds(ids: readonly string[]): Promise<Array<UserRow | null>> {
    const missing = [...new Set(ids.filter((id) => !this.cache.has(id)))];
    if (missing.length > 0) {
      for (const row of await this.store.findByIds(missing)) {
        if (this.cache.size >= UsersService.CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(row.id, row);
      }
    }
    return ids.map((id) => this.cache.get(id) ?? null);
  }

  /** User.online: connected to any instance right now. */
  isOnline(userIds: readonly string[]): Promise<boolean[]> {
    return this.presence.isOnline(userIds);
  }

  async findById(id: string): Promise<UserRow | null> {
    const [row] = await this.findByIds([id]);
    return row ?? null;
  }
}

import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { isUniqueViolation } from '../../db/errors.js';
import { users, type UserRow } from '../../db/schema.js';

export class UsersStore {
  constructor(private readonly db: Database) {}

  /** null when the username is taken (in any letter case). */
  async insert(username: string, passwordHash: string): Promise<UserRow | null> {
    try {
      const [row] = await this.db.insert(users).values({ username, passwordHash }).returning();
      return row!;
    } catch (error) {
      if (isUniqueViolation(error, 'users_username_lower_key')) return null;
      throw error;
    }
  }

  /**
   * A user for a provider's subject, without a password. 'username-taken'
   * when the username is someone else's; null when the subject got its user
   * meanwhile (another request or instance provisioned it first).
   */
  async insertExternal(username: string, issuer: string, subject: string): Promise<UserRow | 'username-taken' | null> {
    try {
      const [row] = await this.db
        .insert(users)
        .values({ username, externalIssuer: issuer, externalSubject: subject })
        .onConflictDoNothing({ target: [users.externalIssuer, users.externalSubject] })
        .returning();
      return row ?? null;
    } catch (error) {
      if (isUniqueViolation(error, 'users_username_lower_key')) return 'username-taken';
      throw error;
    }
  }

  async findByExternal(issuer: string, subject: string): Promise<UserRow | null> {
    const [row] = await this.db
      .select()
      .from(users)
      .where(and(eq(users.externalIssuer, issuer), eq(users.externalSubject, subject)))
      .limit(1);
    return row ?? null;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db.update(users).set({ passwordHash }).where(eq(users.id, id));
  }

  async findByUsername(username: string): Promise<UserRow | null> {
    const [row] = await this.db
      .select()
      .from(users)
      .where(eq(sql`lower(${users.username})`, username.toLowerCase()))
      .limit(1);
    return row ?? null;
  }

  /** Which of these ids name a user. */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db
      .select({ id: users.id })
      .from(users)
      .where(inArray(users.id, [...ids]));
    return new Set(rows.map((row) => row.id));
  }

  /** The users whose lower-cased username starts with `prefix` (already lower-cased), by it, at most `limit`. */
  findByUsernamePrefix(prefix: string, limit: number): Promise<UserRow[]> {
    return this.usernamePrefixQuery(prefix, limit);
  }

  /**
   * The query of findByUsernamePrefix, for EXPLAIN in tests. The prefix is
   * the range [prefix, prefix with its last character incremented) under
   * text_pattern_ops' byte-wise operators, so users_username_prefix_idx
   * serves it whatever the collation, with the prefix as a parameter (a
   * LIKE pattern in a parameter cannot become index bounds in a generic
   * plan), and the scan is already in the order asked for. The caller
   * passes only ASCII (usernames are [A-Za-z0-9_.-]), where bytes are
   * characters.
   */
  usernamePrefixQuery(prefix: string, limit: number) {
    const lowered = sql`lower(${users.username})`;
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.db
      .select()
      .from(users)
      .where(sql`${lowered} ~>=~ ${prefix} and ${lowered} ~<~ ${end}`)
      .orderBy(sql`${lowered} using ~<~`)
      .limit(limit);
  }

  async findByIds(ids: readonly string[]): Promise<UserRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(users)
      .where(inArray(users.id, [...ids]));
  }
}

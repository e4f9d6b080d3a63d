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

  async findByIds(ids: readonly string[]): Promise<UserRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(users)
      .where(inArray(users.id, [...ids]));
  }
}

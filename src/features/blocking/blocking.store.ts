import { and, asc, eq, inArray, or } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { userBlocks, users, type UserRow } from '../../db/schema.js';

export class BlockingStore {
  constructor(private readonly db: Database) {}

  /** Idempotent: a second block changes nothing. */
  async block(blockerId: string, blockedId: string): Promise<void> {
    await this.db.insert(userBlocks).values({ blockerId, blockedId }).onConflictDoNothing();
  }

  async unblock(blockerId: string, blockedId: string): Promise<void> {
    await this.db.delete(userBlocks).where(and(eq(userBlocks.blockerId, blockerId), eq(userBlocks.blockedId, blockedId)));
  }

  /** The users `blockerId` blocked, by username. */
  async blockedBy(blockerId: string): Promise<UserRow[]> {
    const rows = await this.db
      .select({ user: users })
      .from(userBlocks)
      .innerJoin(users, eq(users.id, userBlocks.blockedId))
      .where(eq(userBlocks.blockerId, blockerId))
      .orderBy(asc(users.username), asc(users.id));
    return rows.map((row) => row.user);
  }

  /** Which of `userIds` `blockerId` blocked. */
  async blockedAmong(blockerId: string, userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db
      .select({ blockedId: userBlocks.blockedId })
      .from(userBlocks)
      .where(and(eq(userBlocks.blockerId, blockerId), inArray(userBlocks.blockedId, [...userIds])));
    return rows.map((row) => row.blockedId);
  }

  /** Whether either of the two blocked the other. */
  async eitherBlocked(a: string, b: string): Promise<boolean> {
    const [row] = await this.db
      .select({ blockerId: userBlocks.blockerId })
      .from(userBlocks)
      .where(
        or(
          and(eq(userBlocks.blockerId, a), eq(userBlocks.blockedId, b)),
          and(eq(userBlocks.blockerId, b), eq(userBlocks.blockedId, a)),
        ),
      )
      .limit(1);
    return row !== undefined;
  }
}

import { and, desc, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { memberships, messageColumns, messages, type MessageRow } from '../../db/schema.js';

export class SearchStore {
  constructor(private readonly db: Database) {}

  /**
   * Full-text search over the messages of the rooms `userId` is a member of
   * (of `roomId` only, when given), through the GIN index on messages.search.
   * The membership join is the access rule: a room the user is not in is
   * never read. Tombstones never match (their body is empty, and they are
   * excluded anyway). Best rank first; among equals, the newest seq.
   */
  async search(userId: string, query: string, roomId: string | null, limit: number): Promise<MessageRow[]> {
    const tsquery = sql`websearch_to_tsquery('english', ${query})`;
    const conditions: SQL[] = [sql`${messages.search} @@ ${tsquery}`, isNull(messages.deletedAt)];
    if (roomId !== null) conditions.push(eq(messages.roomId, roomId));
    return this.db
      .select(messageColumns)
      .from(messages)
      .innerJoin(memberships, and(eq(memberships.roomId, messages.roomId), eq(memberships.userId, userId)))
      .where(and(...conditions))
      .orderBy(
        desc(sql`ts_rank(${messages.search}, ${tsquery})`),
        desc(messages.seq),
        desc(messages.createdAt),
        desc(messages.id),
      )
      .limit(limit);
  }
}

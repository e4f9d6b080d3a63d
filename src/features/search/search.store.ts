import { and, desc, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { pgError } from '../../db/errors.js';
import { memberships, messageColumns, messages, type MessageRow } from '../../db/schema.js';
import { serviceUnavailable } from '../../errors.js';

/** SQLSTATE query_canceled: here, the search's statement_timeout. */
const QUERY_CANCELED = '57014';

export class SearchStore {
  /** @param timeoutMs Postgres's statement_timeout for one search. */
  constructor(
    private readonly db: Database,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Full-text search over the messages of the rooms `userId` is a member of
   * (of `roomId` only, when given), through the GIN index on messages.search.
   * The membership join is the access rule: a room the user is not in is
   * never read. Tombstones never match (their body is empty, and they are
   * excluded anyway). Best rank first; among equals, the newest seq.
   *
   * A search may cost more than other queries (many words, many matches to
   * rank), so it runs under a statement_timeout of its own, set for its
   * transaction only; past it Postgres cancels the query and the caller
   * gets SERVICE_UNAVAILABLE. Embedded PGlite runs the query on the event
   * loop and cannot interrupt it: there the query's length cap (256
   * characters, checked before any SQL) is what bounds it.
   */
  async search(userId: string, query: string, roomId: string | null, limit: number): Promise<MessageRow[]> {
    const tsquery = sql`websearch_to_tsquery('english', ${query})`;
    const conditions: SQL[] = [sql`${messages.search} @@ ${tsquery}`, isNull(messages.deletedAt)];
    if (roomId !== null) conditions.push(eq(messages.roomId, roomId));
    try {
      return await this.db.transaction(async (tx) => {
        // set_config(…, true) is SET LOCAL; unlike SET it takes a parameter.
        await tx.execute(sql`select set_config('statement_timeout', ${String(this.timeoutMs)}, true)`);
        return tx
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
      });
    } catch (error) {
      if (pgError(error)?.code === QUERY_CANCELED) {
        throw serviceUnavailable('The search took too long; try fewer or more specific words');
      }
      throw error;
    }
  }
}

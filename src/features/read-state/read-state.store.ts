import { and, eq, gt, inArray, ne, notExists, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { memberships, messages, rooms, userBlocks } from '../../db/schema.js';

/** A member's read position in one room and what others posted after it. */
export interface ReadState {
  roomId: string;
  lastReadSeq: number;
  unreadCount: number;
}

export class ReadStateStore {
  constructor(private readonly db: Database) {}

  /**
   * One UPDATE: last_read_seq = greatest(last_read_seq, least(seq, rooms.last_seq)),
   * so the position never moves backwards and a seq past the newest message
   * counts as the newest. The row is written only when the position moves:
   * the new position, or null when it did not move (or the user is not a member).
   */
  async advance(roomId: string, userId: string, seq: number): Promise<number | null> {
    const target = sql`least(${seq}::int, ${rooms.lastSeq})`;
    const [row] = await this.db
      .update(memberships)
      .set({ lastReadSeq: sql`greatest(${memberships.lastReadSeq}, ${target})` })
      .from(rooms)
      .where(
        and(
          eq(memberships.roomId, roomId),
          eq(memberships.userId, userId),
          eq(rooms.id, memberships.roomId),
          sql`${target} > ${memberships.lastReadSeq}`,
        ),
      )
      .returning({ lastReadSeq: memberships.lastReadSeq });
    return row?.lastReadSeq ?? null;
  }

  /**
   * The user's read state in each of the rooms they are a member of, in one
   * query: messages by others after the last read seq, counted per room over
   * the (room_id, seq) index, leaving out those of users the reader blocked
   * (their messages still arrive, but are not unread). Rooms the user is not
   * a member of are absent.
   */
  async of(userId: string, roomIds: readonly string[]): Promise<ReadState[]> {
    if (roomIds.length === 0) return [];
    return this.db
      .select({
        roomId: memberships.roomId,
        lastReadSeq: memberships.lastReadSeq,
        unreadCount: sql<number>`count(${messages.id})::int`.mapWith(Number),
      })
      .from(memberships)
      .leftJoin(
        messages,
        and(
          eq(messages.roomId, memberships.roomId),
          gt(messages.seq, memberships.lastReadSeq),
          ne(messages.authorId, memberships.userId),
          notExists(
            this.db
              .select({ one: sql`1` })
              .from(userBlocks)
              .where(and(eq(userBlocks.blockerId, memberships.userId), eq(userBlocks.blockedId, messages.authorId))),
          ),
        ),
      )
      .where(and(eq(memberships.userId, userId), inArray(memberships.roomId, [...roomIds])))
      .groupBy(memberships.roomId, memberships.lastReadSeq);
  }
}

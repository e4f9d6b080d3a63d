import { and, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { messageColumns, messages, rooms, type MessageRow } from '../../db/schema.js';

export class PinsStore {
  constructor(private readonly db: Database) {}

  /**
   * Pins the message unless it is pinned or deleted, if the room has fewer
   * than `limit` pins: the room row is locked first, so two pins racing in
   * one room are counted one after the other. `limit` when the room is full,
   * null when nothing changed (pinned already, or deleted meanwhile).
   */
  async pin(message: MessageRow, userId: string, limit: number): Promise<MessageRow | 'limit' | null> {
    return this.db.transaction(async (tx) => {
      await tx.select({ id: rooms.id }).from(rooms).where(eq(rooms.id, message.roomId)).for('no key update');
      const [{ count } = { count: 0 }] = await tx
        .select({ count: sql<number>`count(*)::int`.mapWith(Number) })
        .from(messages)
        .where(and(eq(messages.roomId, message.roomId), isNotNull(messages.pinnedAt)));
      if (count >= limit) return 'limit' as const;
      const [row] = await tx
        .update(messages)
        .set({ pinnedAt: sql`now()`, pinnedBy: userId })
        .where(and(eq(messages.id, message.id), isNull(messages.pinnedAt), isNull(messages.deletedAt)))
        .returning(messageColumns);
      return row ?? null;
    });
  }

  /** Unpins it; null when it was not pinned. */
  async unpin(id: string): Promise<MessageRow | null> {
    const [row] = await this.db
      .update(messages)
      .set({ pinnedAt: null, pinnedBy: null })
      .where(and(eq(messages.id, id), isNotNull(messages.pinnedAt)))
      .returning(messageColumns);
    return row ?? null;
  }

  /** The pinned messages of each room, newest pin first. */
  async ofRooms(roomIds: readonly string[]): Promise<MessageRow[]> {
    if (roomIds.length === 0) return [];
    return this.db
      .select(messageColumns)
      .from(messages)
      .where(and(inArray(messages.roomId, [...roomIds]), isNotNull(messages.pinnedAt)))
      .orderBy(desc(messages.pinnedAt), desc(messages.seq));
  }
}

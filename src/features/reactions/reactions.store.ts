import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { messages, reactions, type ReactionRow } from '../../db/schema.js';

export class ReactionsStore {
  constructor(private readonly db: Database) {}

  /**
   * Adds one user's reaction unless the message is deleted; false when
   * nothing was added (it was there already, or the message is a tombstone).
   * The message row is read FOR SHARE: a deletion running meanwhile either
   * waits for this insert and then removes the reaction, or commits first and
   * this insert finds the message deleted.
   */
  async add(messageId: string, userId: string, emoji: string): Promise<boolean> {
    const rows = await this.db
      .insert(reactions)
      .select((qb) =>
        qb
          .select({
            messageId: messages.id,
            userId: sql`${userId}::uuid`.as('user_id'),
            emoji: sql`${emoji}::text`.as('emoji'),
            createdAt: sql`now()`.as('created_at'),
          })
          .from(messages)
          .where(and(eq(messages.id, messageId), isNull(messages.deletedAt)))
          .for('share'),
      )
      .onConflictDoNothing()
      .returning({ emoji: reactions.emoji });
    return rows.length > 0;
  }

  /** False when the user had no such reaction. */
  async remove(messageId: string, userId: string, emoji: string): Promise<boolean> {
    const rows = await this.db
      .delete(reactions)
      .where(and(eq(reactions.messageId, messageId), eq(reactions.userId, userId), eq(reactions.emoji, emoji)))
      .returning({ emoji: reactions.emoji });
    return rows.length > 0;
  }

  /** Every reaction on the messages, oldest first (ties in a fixed order). */
  async ofMessages(messageIds: readonly string[]): Promise<ReactionRow[]> {
    if (messageIds.length === 0) return [];
    return this.db
      .select()
      .from(reactions)
      .where(inArray(reactions.messageId, [...messageIds]))
      .orderBy(asc(reactions.createdAt), asc(reactions.emoji), asc(reactions.userId));
  }
}

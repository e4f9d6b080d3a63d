import { and, asc, desc, eq, exists, gt, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { isUniqueViolation } from '../../db/errors.js';
import { memberships, messageColumns, messages, reactions, rooms, type MessageRow } from '../../db/schema.js';

export interface NewMessage {
  roomId: string;
  authorId: string;
  body: string;
  clientId: string | null;
  replyToId: string | null;
}

export type InsertOutcome =
  | { kind: 'inserted'; message: MessageRow }
  /** The author already sent this clientId in this room: the first message. */
  | { kind: 'duplicate'; message: MessageRow }
  /** The room is gone or the author is not a member (any more). */
  | { kind: 'rejected' };

export class MessagesStore {
  private readonly insertOne: ReturnType<typeof prepareInsertOne>;

  constructor(private readonly db: Database) {
    this.insertOne = prepareInsertOne(db);
  }

  /**
   * One statement: bump rooms.last_seq and insert the message with it. The
   * UPDATE takes the room row's lock, so concurrent senders (on any instance)
   * get consecutive seqs and commit in seq order; a statement that fails (a
   * clientId conflict) rolls its bump back, so no gap is ever left. The
   * membership check sits in the same statement, so a member who just left
   * cannot slip a message in.
   */
  async insert(input: NewMessage): Promise<InsertOutcome> {
    const { roomId, authorId } = input;
    try {
      const [row] = await this.insertOne.execute({
        roomId,
        authorId,
        body: input.body,
        clientId: input.clientId,
        replyToId: input.replyToId,
      });
      return row ? { kind: 'inserted', message: row } : { kind: 'rejected' };
    } catch (error) {
      if (input.clientId !== null && isUniqueViolation(error, 'messages_client_id_key')) {
        const first = await this.findByClientId(roomId, authorId, input.clientId);
        if (first) return { kind: 'duplicate', message: first };
      }
      throw error;
    }
  }

  async findByClientId(roomId: string, authorId: string, clientId: string): Promise<MessageRow | null> {
    const [row] = await this.db
      .select(messageColumns)
      .from(messages)
      .where(and(eq(messages.roomId, roomId), eq(messages.authorId, authorId), eq(messages.clientId, clientId)));
    return row ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<MessageRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select(messageColumns)
      .from(messages)
      .where(inArray(messages.id, [...ids]));
  }

  async findById(id: string): Promise<MessageRow | null> {
    const [row] = await this.findByIds([id]);
    return row ?? null;
  }

  /**
   * A window of a room's history by seq bounds (exclusive), `limit` rows from
   * the oldest end (forward) or the newest end (backward), returned oldest first.
   */
  async window(
    roomId: string,
    bounds: { afterSeq: number | null; beforeSeq: number | null },
    limit: number,
    from: 'oldest' | 'newest',
  ): Promise<MessageRow[]> {
    const conditions: SQL[] = [eq(messages.roomId, roomId)];
    if (bounds.afterSeq !== null) conditions.push(gt(messages.seq, bounds.afterSeq));
    if (bounds.beforeSeq !== null) conditions.push(lt(messages.seq, bounds.beforeSeq));
    const rows = await this.db
      .select(messageColumns)
      .from(messages)
      .where(and(...conditions))
      .orderBy(from === 'oldest' ? asc(messages.seq) : desc(messages.seq))
      .limit(limit);
    return from === 'oldest' ? rows : rows.reverse();
  }

  /**
   * Sets a new body and editedAt on the author's message unless it was
   * deleted; null when no row matched (deleted meanwhile, or not the author's).
   */
  async edit(id: string, authorId: string, body: string): Promise<MessageRow | null> {
    const [row] = await this.db
      .update(messages)
      .set({ body, editedAt: sql`now()` })
      .where(and(eq(messages.id, id), eq(messages.authorId, authorId), isNull(messages.deletedAt)))
      .returning(messageColumns);
    return row ?? null;
  }

  /**
   * Turns the message into a tombstone (empty body, deletedAt set; its seq
   * stays) and removes its reactions; null when it already was one. Two
   * statements in one transaction, the UPDATE first: it locks the message
   * row, and the DELETE reads a snapshot taken after that lock, so a reaction
   * added concurrently (its insert locks the row FOR SHARE) is either seen
   * and removed, or refused because the message is deleted.
   */
  async tombstone(id: string): Promise<MessageRow | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(messages)
        .set({ body: '', deletedAt: sql`now()` })
        .where(and(eq(messages.id, id), isNull(messages.deletedAt)))
        .returning(messageColumns);
      if (row) await tx.delete(reactions).where(eq(reactions.messageId, id));
      return row ?? null;
    });
  }

  /** Messages after a seq, oldest first: replay and gap filling for live feeds. */
  after(roomId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    return this.window(roomId, { afterSeq, beforeSeq: null }, limit, 'oldest');
  }

  /** Each room's newest message. */
  async lastOf(roomIds: readonly string[]): Promise<MessageRow[]> {
    if (roomIds.length === 0) return [];
    return this.db
      .selectDistinctOn([messages.roomId], messageColumns)
      .from(messages)
      .where(inArray(messages.roomId, [...roomIds]))
      .orderBy(messages.roomId, desc(messages.seq));
  }
}

/**
 * insert()'s statement, built once and prepared: a call binds its five values
 * and nothing more. Building it per call was a sixth of a send's CPU, and as
 * an unnamed query postgres.js sent it with a Describe first, a round trip
 * of its own; prepared, it is one Bind/Execute on a connection that has seen it.
 */
function prepareInsertOne(db: Database) {
  const roomId = sql.placeholder('roomId');
  const authorId = sql.placeholder('authorId');
  const bumped = db.$with('bumped').as(
    db
      .update(rooms)
      .set({ lastSeq: sql`${rooms.lastSeq} + 1`, lastActivityAt: sql`now()` })
      .where(
        and(
          eq(rooms.id, roomId),
          exists(
            db
              .select({ one: sql`1` })
              .from(memberships)
              .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, authorId))),
          ),
        ),
      )
      .returning({ seq: rooms.lastSeq }),
  );
  // Sending marks the room read up to the new message for its author. A
  // data-modifying CTE runs once whether or not the main statement reads it.
  const markRead = db.$with('mark_read').as(
    db
      .update(memberships)
      .set({ lastReadSeq: sql`greatest(${memberships.lastReadSeq}, (select last_seq from bumped))` })
      .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, authorId)))
      .returning({ userId: memberships.userId }),
  );
  return db
    .with(bumped, markRead)
    .insert(messages)
    .select((qb) =>
      // insert ... select lists the insertable columns in table order (the
      // generated search column is left out); passed as SQL because
      // drizzle's key check would count the generated column too.
      qb
        .select({
          id: sql`gen_random_uuid()`.as('id'),
          roomId: sql`${roomId}::uuid`.as('room_id'),
          seq: bumped.seq,
          authorId: sql`${authorId}::uuid`.as('author_id'),
          body: sql`${sql.placeholder('body')}::text`.as('body'),
          clientId: sql`${sql.placeholder('clientId')}::text`.as('client_id'),
          replyToId: sql`${sql.placeholder('replyToId')}::uuid`.as('reply_to_id'),
          createdAt: sql`now()`.as('created_at'),
          editedAt: sql`null::timestamptz`.as('edited_at'),
          deletedAt: sql`null::timestamptz`.as('deleted_at'),
        })
        .from(bumped)
        .getSQL(),
    )
    .returning(messageColumns)
    .prepare('insert_message');
}

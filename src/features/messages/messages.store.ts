import { and, asc, desc, eq, exists, gt, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { prepareStatement, type Database } from '../../db/client.js';
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
  private readonly insertBatch: ReturnType<typeof prepareInsertBatch>;

  constructor(private readonly db: Database) {
    this.insertOne = prepareInsertOne(db);
    this.insertBatch = prepareInsertBatch(db);
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

  /**
   * Several messages to one room in one statement, the outcomes in the order
   * of `inputs`: what insert() would have answered for each, had they been
   * sent one after the other. last_seq is bumped once by the number inserted
   * (one lock, one commit for all) and the new messages take consecutive seqs
   * in the order given. An author who is not a member is rejected; a clientId
   * already stored, or given earlier in the same batch by the same author,
   * answers that first message and takes no seq. Each author's read position
   * moves to their newest new message.
   *
   * It fails as a whole, committing nothing, when another instance commits a
   * repeat of one of these clientIds after this statement took its snapshot
   * (a unique violation): the caller retries, or sends one at a time.
   */
  async insertMany(roomId: string, inputs: readonly NewMessage[]): Promise<InsertOutcome[]> {
    const rows = inputs.map((input, i) => ({
      i,
      author_id: input.authorId,
      body: wellFormed(input.body),
      client_id: input.clientId === null ? null : wellFormed(input.clientId),
      reply_to_id: input.replyToId,
    }));
    const answered: Array<InsertOutcome | undefined> = [];
    for (const row of await this.insertBatch({ roomId, batch: JSON.stringify(rows) })) {
      answered[row.i] = { kind: row.outcome, message: messageRowOf(row) };
    }
    // Absent from the answer: a repeat of a clientId given earlier in the
    // batch (the earlier one's message), or rejected.
    const firsts = new Map<string, InsertOutcome>();
    return rows.map((row, i) => {
      const key = row.client_id === null ? null : `${row.author_id} ${row.client_id}`;
      const first = key === null ? undefined : firsts.get(key);
      const outcome: InsertOutcome =
        answered[i] ??
        (first && first.kind !== 'rejected' ? { kind: 'duplicate', message: first.message } : { kind: 'rejected' });
      if (key !== null && first === undefined) firsts.set(key, outcome);
      return outcome;
    });
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

/** A row of insertMany()'s answer: which input, what became of it, and its message. */
interface BatchRow {
  i: number;
  outcome: 'inserted' | 'duplicate';
  id: string;
  room_id: string;
  seq: number;
  author_id: string;
  body: string;
  client_id: string | null;
  reply_to_id: string | null;
  created_at: Date | string;
  edited_at: Date | string | null;
  deleted_at: Date | string | null;
}

/**
 * The batch is one JSON parameter, so no parameter limit applies to its
 * size. `classified` looks up, for each input, its author's membership and a
 * stored message with its clientId, and the first input of the batch with
 * the same author and clientId. The lookups are lateral with `limit 1` (both
 * keys are unique) so that they stay one index probe per input: as joins,
 * the planner, guessing 100 rows for the JSON, read every message of the
 * room instead, and a batch took milliseconds per thousand messages stored. `fresh` is what
 * gets inserted: members' inputs that repeat nothing, ranked in input order.
 * `bumped` takes the room row's lock and moves last_seq by their number (not
 * at all when there are none); the fresh messages get base + rank. The
 * answer: each inserted message with its input (rank -> input through an
 * array, no join), and each input repeating a stored clientId with that
 * message. Inputs repeating a clientId earlier in the batch, and rejected
 * ones, are absent: insertMany() tells them apart.
 */
const INSERT_BATCH_SQL = `
with input as (
  select * from json_to_recordset($2::text::json)
    as t(i int, author_id uuid, body text, client_id text, reply_to_id uuid)
),
classified as (
  select input.*,
    membership.author_id is not null as member,
    case when input.client_id is null then input.i
      else min(input.i) over (partition by input.author_id, input.client_id) end as first_i,
    stored.id as stored_id, stored.seq as stored_seq, stored.body as stored_body,
    stored.reply_to_id as stored_reply_to_id, stored.created_at as stored_created_at,
    stored.edited_at as stored_edited_at, stored.deleted_at as stored_deleted_at
  from input
  left join lateral (
    select user_id as author_id from memberships where room_id = $1::uuid and user_id = input.author_id limit 1
  ) membership on true
  left join lateral (
    select m.id, m.seq, m.body, m.reply_to_id, m.created_at, m.edited_at, m.deleted_at from messages m
    where m.room_id = $1::uuid and m.author_id = input.author_id and m.client_id = input.client_id
    limit 1
  ) stored on true
),
fresh as (
  select i, author_id, body, client_id, reply_to_id, row_number() over (order by i) as rank
  from classified
  where member and stored_id is null and first_i = i
),
fresh_order as (
  select array_agg(i order by rank) as inputs, count(*) as k from fresh
),
bumped as (
  update rooms set last_seq = last_seq + (select k from fresh_order), last_activity_at = now()
  where id = $1::uuid and (select k from fresh_order) > 0
  returning last_seq - (select k from fresh_order) as base
),
inserted as (
  insert into messages (id, room_id, seq, author_id, body, client_id, reply_to_id, created_at, edited_at, deleted_at)
  select gen_random_uuid(), $1::uuid, bumped.base + fresh.rank, fresh.author_id, fresh.body, fresh.client_id,
    fresh.reply_to_id, now(), null, null
  from fresh cross join bumped
  returning id, room_id, seq, author_id, body, client_id, reply_to_id, created_at, edited_at, deleted_at
),
mark_read as (
  update memberships set last_read_seq = greatest(last_read_seq, newest.seq)
  from (select author_id, max(seq) as seq from inserted group by author_id) newest
  where memberships.room_id = $1::uuid and memberships.user_id = newest.author_id
  returning 1
)
select (select inputs from fresh_order)[inserted.seq - bumped.base] as i, 'inserted' as outcome, inserted.*
from inserted cross join bumped
union all
select i, 'duplicate', stored_id, $1::uuid, stored_seq, author_id, stored_body, client_id, stored_reply_to_id,
  stored_created_at, stored_edited_at, stored_deleted_at
from classified
where member and stored_id is not null
`;

function prepareInsertBatch(db: Database) {
  return prepareStatement<BatchRow>(db, 'insert_messages', INSERT_BATCH_SQL, ['roomId', 'batch']);
}

const instant = (value: Date | string) => (value instanceof Date ? value : new Date(value));

function messageRowOf(row: BatchRow): MessageRow {
  return {
    id: row.id,
    roomId: row.room_id,
    seq: row.seq,
    authorId: row.author_id,
    body: row.body,
    clientId: row.client_id,
    replyToId: row.reply_to_id,
    createdAt: instant(row.created_at),
    editedAt: row.edited_at === null ? null : instant(row.edited_at),
    deletedAt: row.deleted_at === null ? null : instant(row.deleted_at),
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A lone surrogate becomes U+FFFD, as the drivers' UTF-8 encoding of a text
 * parameter makes it; inside the JSON batch it would be an escape that
 * Postgres refuses, failing every message of the batch.
 */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

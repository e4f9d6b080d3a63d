/**
 * The statements of a send, apart from the store that runs them: the
 * one-message insert and the batch insert (MessagesStore.insert and
 * insertMany say what they answer).
 */
import { and, eq, exists, sql } from 'drizzle-orm';
import { prepareStatement, type Database } from '../../db/client.js';
import { memberships, messageColumns, messages, rooms, type MessageRow } from '../../db/schema.js';

/**
 * insert()'s statement, built once and prepared: a call binds its five values
 * and nothing more. Building it per call was a sixth of a send's CPU, and as
 * an unnamed query postgres.js sent it with a Describe first, a round trip
 * of its own; prepared, it is one Bind/Execute on a connection that has seen it.
 */
export function prepareInsertOne(db: Database) {
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
export interface BatchRow {
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

export function prepareInsertBatch(db: Database) {
  return prepareStatement<BatchRow>(db, 'insert_messages', INSERT_BATCH_SQL, ['roomId', 'batch']);
}

const instant = (value: Date | string) => (value instanceof Date ? value : new Date(value));

export function messageRowOf(row: BatchRow): MessageRow {
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
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

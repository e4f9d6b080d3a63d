/**
 * The statements of a send, apart from the store that runs them: the
 * one-message insert and the batch insert (MessagesStore.insert and
 * insertMany say what they answer). The batch takes timeline messages
 * without mentions only (the plain, common send); a thread reply or a
 * message with mentions goes alone, in a transaction with its thread and
 * mention rows (MessagesStore.insertWith).
 */
import { and, eq, exists, sql } from 'drizzle-orm';
import { prepareStatement, type Database } from '../../db/client.js';
import { memberships, messageColumns, messages, rooms, type MessageRow } from '../../db/schema.js';

/**
 * Who may speak, as SQL over a member's locked row (`member`) and the room
 * row being bumped: not muted at `now`; and MODERATOR and above, or, for
 * the others, a room that is not frozen and whose slow mode (if on) has
 * passed since the member's last post. The permission table
 * (moderation/permissions.ts) says the same in TypeScript, to explain a
 * refusal after the fact.
 */
const EXEMPT_ROLES = `('OWNER', 'ADMIN', 'MODERATOR')`;

/**
 * A DIRECT room between two users of whom one blocked the other takes no
 * message (its direct_key is the two ids, sorted, so both directions are
 * two primary-key probes); a GROUP room is never blocked.
 */
const DIRECT_BLOCKED = (room: string) => `(${room}.kind = 'DIRECT' and exists (
    select 1 from user_blocks b
    where (b.blocker_id = split_part(${room}.direct_key, ':', 1)::uuid and b.blocked_id = split_part(${room}.direct_key, ':', 2)::uuid)
       or (b.blocker_id = split_part(${room}.direct_key, ':', 2)::uuid and b.blocked_id = split_part(${room}.direct_key, ':', 1)::uuid)))`;

/**
 * insert()'s statement, built once and prepared: a call binds its values
 * and nothing more. Building it per call was a sixth of a send's CPU, and as
 * an unnamed query postgres.js sent it with a Describe first, a round trip
 * of its own; prepared, it is one Bind/Execute on a connection that has seen it.
 *
 * The author's membership row is locked first (FOR UPDATE: a concurrent
 * send, mute or kick of the same member waits, and this statement reads the
 * row as the other left it), then the room row by the bump, whose WHERE
 * holds every rule of who may speak: a member, not muted, and for a MEMBER
 * not frozen and past slow mode; no block in a DIRECT room. Postgres
 * re-evaluates that WHERE on the newest room row after waiting for its
 * lock, so a freeze or slow mode committed meanwhile is seen; nothing can
 * slip in between a check and the insert. Membership rows are always locked
 * before room rows (the batch statement too), so sends never deadlock.
 */
export function prepareInsertOne(db: Database) {
  const roomId = sql.placeholder('roomId');
  const authorId = sql.placeholder('authorId');
  const now = sql`${sql.placeholder('now')}::text::timestamptz`;
  const threadRootId = sql`${sql.placeholder('threadRootId')}::uuid`;
  const showInRoom = sql`${sql.placeholder('showInRoom')}::boolean`;
  // A thread reply is in the timeline only when shown in the room.
  const inTimeline = sql`(${threadRootId} is null or ${showInRoom})`;
  const member = db.$with('member').as(
    db
      .select({ role: memberships.role, mutedUntil: memberships.mutedUntil, lastPostedAt: memberships.lastPostedAt })
      .from(memberships)
      .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, authorId)))
      .for('update'),
  );
  const bumped = db.$with('bumped').as(
    db
      .update(rooms)
      .set({
        lastSeq: sql`${rooms.lastSeq} + 1`,
        timelineCount: sql`${rooms.timelineCount} + case when ${inTimeline} then 1 else 0 end`,
        lastActivityAt: sql`now()`,
      })
      .where(
        and(
          eq(rooms.id, roomId),
          sql`not ${sql.raw(DIRECT_BLOCKED('rooms'))}`,
          exists(
            db
              .select({ one: sql`1` })
              .from(member)
              .where(
                sql`(${member.mutedUntil} is null or ${member.mutedUntil} <= ${now})
                  and (${member.role} in ${sql.raw(EXEMPT_ROLES)} or (not ${rooms.frozen} and (${rooms.slowModeSeconds} = 0
                    or ${member.lastPostedAt} is null
                    or ${member.lastPostedAt} <= ${now} - ${rooms.slowModeSeconds} * interval '1 second')))`,
              ),
          ),
        ),
      )
      .returning({ seq: rooms.lastSeq, timelineNo: rooms.timelineCount }),
  );
  // Sending marks the room read up to the new message for its author, and is
  // what slow mode measures from. A data-modifying CTE runs once whether or
  // not the main statement reads it.
  const markRead = db.$with('mark_read').as(
    db
      .update(memberships)
      .set({
        // A reply kept out of the timeline marks its thread read instead (threads.store.ts).
        lastReadSeq: sql`case when ${inTimeline}
          then greatest(${memberships.lastReadSeq}, (select last_seq from bumped)) else ${memberships.lastReadSeq} end`,
        lastPostedAt: sql`case when exists (select 1 from bumped) then ${now} else ${memberships.lastPostedAt} end`,
      })
      .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, authorId)))
      .returning({ userId: memberships.userId }),
  );
  return db
    .with(member, bumped, markRead)
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
          deletedBy: sql`null::uuid`.as('deleted_by'),
          threadRootId: threadRootId.as('thread_root_id'),
          showInRoom: sql`${threadRootId} is not null and ${showInRoom}`.as('show_in_room'),
          timelineNo: bumped.timelineNo,
          mentionIds: sql`${sql.placeholder('mentionIds')}::text::uuid[]`.as('mention_ids'),
          mentionRoom: sql`${sql.placeholder('mentionRoom')}::boolean`.as('mention_room'),
          pinnedAt: sql`null::timestamptz`.as('pinned_at'),
          pinnedBy: sql`null::uuid`.as('pinned_by'),
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
  deleted_by: string | null;
  thread_root_id: string | null;
  show_in_room: boolean;
  mention_ids: string[] | string;
  mention_room: boolean;
  pinned_at: Date | string | null;
  pinned_by: string | null;
}

/**
 * The batch is one JSON parameter, so no parameter limit applies to its
 * size. `locked` locks the authors' membership rows first, in user order
 * (as the one-message statement does, so sends never deadlock), and `room`
 * then the room row, reading its freeze and slow mode as they are now.
 * `classified` looks up, for each input, its author's locked membership and
 * a stored message with its clientId, and the first input of the batch with
 * the same author and clientId. The stored-message lookup is lateral with
 * `limit 1` (the key is unique) so that it stays one index probe per input:
 * as a join, the planner, guessing 100 rows for the JSON, read every message
 * of the room instead, and a batch took milliseconds per thousand messages
 * stored. `candidates` are members' inputs that repeat nothing; `fresh`,
 * what gets inserted, those whose author may speak (not muted; MODERATOR
 * and above, or else not frozen and past slow mode, and then only their
 * first in the batch), ranked in input order; no block in a DIRECT room.
 * `bumped` moves last_seq by their number (not at all when there are none);
 * the fresh messages get base + rank. The answer: each inserted message with
 * its input (rank -> input through an array, no join), and each input
 * repeating a stored clientId with that message (a repeat is answered even
 * when its author may no longer speak). Inputs repeating a clientId earlier
 * in the batch, and rejected ones, are absent: insertMany() tells them apart.
 */
const INSERT_BATCH_SQL = `
with input as (
  select * from json_to_recordset($2::text::json)
    as t(i int, author_id uuid, body text, client_id text, reply_to_id uuid)
),
locked as (
  select m.user_id, m.role, m.muted_until, m.last_posted_at from memberships m
  where m.room_id = $1::uuid and m.user_id in (select author_id from input)
  order by m.user_id
  for update
),
room as (
  -- The scalar subquery makes the membership locks come first.
  select r.kind, r.frozen, r.slow_mode_seconds, ${DIRECT_BLOCKED('r')} as blocked from rooms r
  where r.id = $1::uuid and (select count(*) from locked) >= 0
  for no key update
),
classified as (
  select input.*,
    locked.user_id is not null as member,
    locked.role in ${EXEMPT_ROLES} as exempt,
    (locked.muted_until is null or locked.muted_until <= $3::text::timestamptz) as unmuted,
    (locked.last_posted_at is null
      or locked.last_posted_at <= $3::text::timestamptz - room.slow_mode_seconds * interval '1 second') as rested,
    room.frozen, room.slow_mode_seconds, room.blocked,
    case when input.client_id is null then input.i
      else min(input.i) over (partition by input.author_id, input.client_id) end as first_i,
    stored.id as stored_id, stored.seq as stored_seq, stored.body as stored_body,
    stored.reply_to_id as stored_reply_to_id, stored.created_at as stored_created_at,
    stored.edited_at as stored_edited_at, stored.deleted_at as stored_deleted_at, stored.deleted_by as stored_deleted_by,
    stored.thread_root_id as stored_thread_root_id, stored.show_in_room as stored_show_in_room,
    stored.mention_ids as stored_mention_ids, stored.mention_room as stored_mention_room,
    stored.pinned_at as stored_pinned_at, stored.pinned_by as stored_pinned_by
  from input
  cross join room
  left join locked on locked.user_id = input.author_id
  left join lateral (
    select m.id, m.seq, m.body, m.reply_to_id, m.created_at, m.edited_at, m.deleted_at, m.deleted_by,
      m.thread_root_id, m.show_in_room, m.mention_ids, m.mention_room, m.pinned_at, m.pinned_by from messages m
    where m.room_id = $1::uuid and m.author_id = input.author_id and m.client_id = input.client_id
    limit 1
  ) stored on true
),
candidates as (
  select *, row_number() over (partition by author_id order by i) as nth
  from classified
  where member and stored_id is null and first_i = i and unmuted and not blocked
),
fresh as (
  select i, author_id, body, client_id, reply_to_id, row_number() over (order by i) as rank
  from candidates
  where exempt or (not frozen and (slow_mode_seconds = 0 or (rested and nth = 1)))
),
fresh_order as (
  select array_agg(i order by rank) as inputs, count(*) as k from fresh
),
bumped as (
  update rooms set last_seq = last_seq + (select k from fresh_order),
    timeline_count = timeline_count + (select k from fresh_order), last_activity_at = now()
  where id = $1::uuid and (select k from fresh_order) > 0
  returning last_seq - (select k from fresh_order) as base, timeline_count - (select k from fresh_order) as timeline_base
),
inserted as (
  insert into messages (id, room_id, seq, author_id, body, client_id, reply_to_id, created_at, edited_at, deleted_at, timeline_no)
  select gen_random_uuid(), $1::uuid, bumped.base + fresh.rank, fresh.author_id, fresh.body, fresh.client_id,
    fresh.reply_to_id, now(), null, null, bumped.timeline_base + fresh.rank
  from fresh cross join bumped
  returning id, room_id, seq, author_id, body, client_id, reply_to_id, created_at, edited_at, deleted_at, deleted_by,
    thread_root_id, show_in_room, mention_ids, mention_room, pinned_at, pinned_by
),
mark_read as (
  update memberships set last_read_seq = greatest(last_read_seq, newest.seq), last_posted_at = $3::text::timestamptz
  from (select author_id, max(seq) as seq from inserted group by author_id) newest
  where memberships.room_id = $1::uuid and memberships.user_id = newest.author_id
  returning 1
)
select (select inputs from fresh_order)[inserted.seq - bumped.base] as i, 'inserted' as outcome, inserted.*
from inserted cross join bumped
union all
select i, 'duplicate', stored_id, $1::uuid, stored_seq, author_id, stored_body, client_id, stored_reply_to_id,
  stored_created_at, stored_edited_at, stored_deleted_at, stored_deleted_by, stored_thread_root_id, stored_show_in_room,
  stored_mention_ids, stored_mention_room, stored_pinned_at, stored_pinned_by
from classified
where member and stored_id is not null
`;

export function prepareInsertBatch(db: Database) {
  return prepareStatement<BatchRow>(db, 'insert_messages', INSERT_BATCH_SQL, ['roomId', 'batch', 'now']);
}

const instant = (value: Date | string) => (value instanceof Date ? value : new Date(value));

/** A message's columns as raw SQL returns them (snake case). */
export type MessageSqlRow = Omit<BatchRow, 'i' | 'outcome'>;

export function messageRowOf(row: MessageSqlRow): MessageRow {
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
    deletedBy: row.deleted_by,
    threadRootId: row.thread_root_id,
    showInRoom: row.show_in_room,
    mentionIds: uuidArray(row.mention_ids),
    mentionRoom: row.mention_room,
    pinnedAt: row.pinned_at === null ? null : instant(row.pinned_at),
    pinnedBy: row.pinned_by,
  };
}

/** A uuid[] as the driver gives it: an array (postgres.js, PGlite) or, in a raw row, its text form. */
function uuidArray(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',');
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

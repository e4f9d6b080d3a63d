import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { sqlInstant, systemClock, type Clock } from '../../clock.js';
import { prepareStatement, type Database } from '../../db/client.js';
import { isUniqueViolation } from '../../db/errors.js';
import { messageColumns, messages, reactions, type MessageRow } from '../../db/schema.js';
import { messageRowOf, prepareInsertBatch, prepareInsertOne, wellFormed, type MessageSqlRow } from './messages.statements.js';

export interface NewMessage {
  roomId: string;
  authorId: string;
  body: string;
  clientId: string | null;
  replyToId: string | null;
  /** A thread reply's root (checked by the threads feature before); shown in the timeline too with showInRoom. */
  threadRootId?: string | null;
  showInRoom?: boolean;
  /** Mentioned members, distinct (checked by the mentions feature, in the transaction). */
  mentionIds?: readonly string[];
  mentionRoom?: boolean;
}

/** Whether a send may go in a batch: a plain timeline message, no thread, no mentions (messages.statements.ts). */
export const isPlain = (input: NewMessage) =>
  !input.threadRootId && !input.mentionRoom && (input.mentionIds === undefined || input.mentionIds.length === 0);

/** Work done in a send's transaction once its message is inserted (its thread's row, its mentions). */
export type Alongside = (tx: Database, inserted: MessageRow) => Promise<void>;

/** Which of a room's messages a history window reads: all, the timeline, or one thread's replies. */
export type HistoryScope = 'all' | 'timeline' | { thread: string };

export type InsertOutcome =
  | { kind: 'inserted'; message: MessageRow }
  /** The author already sent this clientId in this room: the first message. */
  | { kind: 'duplicate'; message: MessageRow }
  /** The room is gone or the author is not a member (any more). */
  | { kind: 'rejected' };

export class MessagesStore {
  private readonly insertOne: ReturnType<typeof prepareInsertOne>;
  private readonly insertBatch: ReturnType<typeof prepareInsertBatch>;
  private readonly windows = new Map<string, ReturnType<typeof prepareWindow>>();
  private readonly newestOfRooms: ReturnType<typeof prepareStatement<MessageSqlRow>>;

  /** @param clock what mutes and slow mode are judged by (the app's) */
  constructor(
    private readonly db: Database,
    private readonly clock: Clock = systemClock,
  ) {
    this.insertOne = prepareInsertOne(db);
    this.insertBatch = prepareInsertBatch(db);
    this.newestOfRooms = prepareStatement<MessageSqlRow>(db, 'newest_of_rooms', NEWEST_OF_ROOMS_SQL, ['roomIds']);
  }

  /**
   * One statement: bump rooms.last_seq and insert the message with it. The
   * UPDATE takes the room row's lock, so concurrent senders (on any instance)
   * get consecutive seqs and commit in seq order; a statement that fails (a
   * clientId conflict) rolls its bump back, so no gap is ever left. The
   * checks of who may speak (a member, not muted, not frozen or past slow
   * mode, not blocked: messages.statements.ts) sit in the same statement, so
   * a member who was just kicked, muted or slowed cannot slip a message in.
   * `rejected` does not say which rule refused it: the service asks.
   */
  async insert(input: NewMessage): Promise<InsertOutcome> {
    return this.insertWith(input);
  }

  /**
   * insert(), and with `alongside` in one transaction with the work it does
   * on the inserted message (a thread's row and followers, mention rows):
   * both commit or neither does. A refusal thrown by `alongside` (a mention
   * of a non-member) rolls the message back too, seq included.
   */
  async insertWith(input: NewMessage, alongside?: Alongside): Promise<InsertOutcome> {
    const { roomId, authorId } = input;
    const values = {
      roomId,
      authorId,
      body: input.body,
      clientId: input.clientId,
      replyToId: input.replyToId,
      threadRootId: input.threadRootId ?? null,
      showInRoom: input.showInRoom ?? false,
      mentionIds: `{${(input.mentionIds ?? []).join(',')}}`,
      mentionRoom: input.mentionRoom ?? false,
      now: sqlInstant(this.clock.now()),
    };
    try {
      if (!alongside) {
        const [row] = await this.insertOne.execute(values);
        return row ? { kind: 'inserted', message: row } : { kind: 'rejected' };
      }
      return await this.db.transaction(async (tx) => {
        const [row] = await prepareInsertOne(tx).execute(values);
        if (!row) return { kind: 'rejected' } as const;
        await alongside(tx, row);
        return { kind: 'inserted', message: row } as const;
      });
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
    if (!inputs.every(isPlain)) throw new Error('insertMany takes plain timeline messages only');
    const rows = inputs.map((input, i) => ({
      i,
      author_id: input.authorId,
      body: wellFormed(input.body),
      client_id: input.clientId === null ? null : wellFormed(input.clientId),
      reply_to_id: input.replyToId,
    }));
    const answered: Array<InsertOutcome | undefined> = [];
    for (const row of await this.insertBatch({ roomId, batch: JSON.stringify(rows), now: sqlInstant(this.clock.now()) })) {
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
    scope: HistoryScope = 'all',
  ): Promise<MessageRow[]> {
    const kind = typeof scope === 'string' ? scope : 'thread';
    const rows = await this.windowStatement(bounds.afterSeq !== null, bounds.beforeSeq !== null, from, kind).execute({
      roomId,
      afterSeq: bounds.afterSeq,
      beforeSeq: bounds.beforeSeq,
      rootId: typeof scope === 'string' ? null : scope.thread,
      limit,
    });
    return from === 'oldest' ? rows : rows.reverse();
  }

  /** Whether the scope has a message at or before `atMost`, or at or after `atLeast` (a page's far side). */
  async anyInScope(roomId: string, scope: Exclude<HistoryScope, 'all'>, at: { atMost: number } | { atLeast: number }) {
    const [row] = await this.db
      .select({ one: sql`1` })
      .from(messages)
      .where(
        and(
          eq(messages.roomId, roomId),
          'atMost' in at ? lte(messages.seq, at.atMost) : gte(messages.seq, at.atLeast),
          scopeCondition(
            typeof scope === 'string' ? scope : 'thread',
            sql`${typeof scope === 'string' ? null : scope.thread}::uuid`,
          ),
        ),
      )
      .limit(1);
    return row !== undefined;
  }

  /**
   * History pages, replay and gap fills run one of eight shapes of one query
   * (which bounds, which end): each is built once and prepared, like the
   * insert, so a page costs a Bind/Execute and no query building.
   */
  private windowStatement(after: boolean, before: boolean, from: 'oldest' | 'newest', scope: ScopeKind) {
    const name = `message_window_${after ? 'a' : ''}${before ? 'b' : ''}_${from}${scope === 'all' ? '' : `_${scope}`}`;
    let statement = this.windows.get(name);
    if (!statement) this.windows.set(name, (statement = prepareWindow(this.db, name, after, before, from, scope)));
    return statement;
  }

  /**
   * Sets a new body and editedAt (and the mentions, when given) on the
   * author's message unless it was deleted; null when no row matched
   * (deleted meanwhile, or not the author's). With `alongside`, in one
   * transaction with its work on the edited message.
   */
  async edit(
    id: string,
    authorId: string,
    body: string,
    fields: { mentionIds?: readonly string[] } = {},
    alongside?: Alongside,
  ): Promise<MessageRow | null> {
    const update = (db: Database) =>
      db
        .update(messages)
        .set({ body, editedAt: sql`now()`, ...(fields.mentionIds ? { mentionIds: [...fields.mentionIds] } : {}) })
        .where(and(eq(messages.id, id), eq(messages.authorId, authorId), isNull(messages.deletedAt)))
        .returning(messageColumns);
    if (!alongside) return (await update(this.db))[0] ?? null;
    return this.db.transaction(async (tx) => {
      const [row] = await update(tx);
      if (row) await alongside(tx, row);
      return row ?? null;
    });
  }

  /**
   * Turns the message into a tombstone (empty body, deletedAt set; its seq
   * stays) and removes its reactions; null when it already was one. Two
   * statements in one transaction, the UPDATE first: it locks the message
   * row, and the DELETE reads a snapshot taken after that lock, so a reaction
   * added concurrently (its insert locks the row FOR SHARE) is either seen
   * and removed, or refused because the message is deleted.
   *
   * `deletedBy`: the moderator deleting someone else's message (null for the
   * author's own). `alongside` runs in the same transaction once the
   * message was turned (the moderation log's entry), so both commit or
   * neither does.
   */
  async tombstone(
    id: string,
    deletedBy: string | null = null,
    alongside?: (tx: Database, deleted: MessageRow) => Promise<void>,
  ): Promise<MessageRow | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(messages)
        // Deleting a message unpins it.
        .set({ body: '', deletedAt: sql`now()`, deletedBy, pinnedAt: null, pinnedBy: null })
        .where(and(eq(messages.id, id), isNull(messages.deletedAt)))
        .returning(messageColumns);
      if (row) {
        await tx.delete(reactions).where(eq(reactions.messageId, id));
        await alongside?.(tx, row);
      }
      return row ?? null;
    });
  }

  /** Messages after a seq, oldest first: replay and gap filling for live feeds. */
  after(roomId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    return this.window(roomId, { afterSeq, beforeSeq: null }, limit, 'oldest');
  }

  /**
   * Each room's newest message: one probe of (room, seq) from its newest
   * end per room. (DISTINCT ON over the rooms read and sorted every message
   * of them: seconds for 50 rooms of a million messages.)
   */
  async lastOf(roomIds: readonly string[]): Promise<MessageRow[]> {
    if (roomIds.length === 0) return [];
    const rows = await this.newestOfRooms({ roomIds: `{${roomIds.join(',')}}` });
    return rows.map(messageRowOf);
  }
}

type ScopeKind = 'all' | 'timeline' | 'thread';

/** The messages of a scope: a thread's replies (rootId), or the timeline (no replies but those shown in the room). */
function scopeCondition(scope: ScopeKind, rootId: SQL): SQL | undefined {
  if (scope === 'thread') return eq(messages.threadRootId, rootId);
  if (scope === 'timeline') return or(isNull(messages.threadRootId), eq(messages.showInRoom, true));
  return undefined;
}

function prepareWindow(db: Database, name: string, after: boolean, before: boolean, from: 'oldest' | 'newest', scope: ScopeKind) {
  const conditions: SQL[] = [eq(messages.roomId, sql.placeholder('roomId'))];
  const inScope = scopeCondition(scope, sql`${sql.placeholder('rootId')}::uuid`);
  if (inScope) conditions.push(inScope);
  if (after) conditions.push(gt(messages.seq, sql.placeholder('afterSeq')));
  if (before) conditions.push(lt(messages.seq, sql.placeholder('beforeSeq')));
  return db
    .select(messageColumns)
    .from(messages)
    .where(and(...conditions))
    .orderBy(from === 'oldest' ? asc(messages.seq) : desc(messages.seq))
    .limit(sql.placeholder('limit'))
    .prepare(name);
}

/** Each room's newest message (lastOf): one probe of (room, seq) per room. */
const NEWEST_OF_ROOMS_SQL = `
select m.id, m.room_id, m.seq, m.author_id, m.body, m.client_id, m.reply_to_id, m.created_at, m.edited_at,
  m.deleted_at, m.deleted_by, m.thread_root_id, m.show_in_room, m.mention_ids, m.mention_room, m.pinned_at, m.pinned_by
from unnest($1::text::uuid[]) as wanted(id)
cross join lateral (select * from messages where room_id = wanted.id order by seq desc limit 1) m`;

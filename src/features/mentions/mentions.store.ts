import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { prepareStatement, rowsOf, type Database } from '../../db/client.js';
import { memberships, mentions, type MessageRow } from '../../db/schema.js';

export class MentionsStore {
  private readonly unreadCountsStatement: ReturnType<typeof prepareStatement<{ room_id: string; count: number | string }>>;

  constructor(private readonly db: Database) {
    this.unreadCountsStatement = prepareStatement(db, 'unread_mention_counts', UNREAD_MENTIONS_SQL, ['userId', 'roomIds']);
  }

  /** How many members the room has. */
  async memberCount(roomId: string): Promise<number> {
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int`.mapWith(Number) })
      .from(memberships)
      .where(eq(memberships.roomId, roomId));
    return row?.count ?? 0;
  }

  /** Which of these users are not members of the room (in `db`, a transaction, when given). */
  async notMembers(roomId: string, userIds: readonly string[], db: Database = this.db): Promise<string[]> {
    if (userIds.length === 0) return [];
    const found = await db
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.roomId, roomId), inArray(memberships.userId, [...userIds])));
    const members = new Set(found.map((row) => row.userId));
    return userIds.filter((id) => !members.has(id));
  }

  /** In the message's transaction: a row per mentioned member (never its author), what unread mention counts read. */
  async record(tx: Database, message: MessageRow, userIds: readonly string[]): Promise<void> {
    const rows = userIds
      .filter((id) => id !== message.authorId)
      .map((userId) => ({
        userId,
        messageId: message.id,
        roomId: message.roomId,
        seq: message.seq,
        authorId: message.authorId,
        threadRootId: message.threadRootId,
        inTimeline: message.threadRootId === null || message.showInRoom,
      }));
    if (rows.length > 0) await tx.insert(mentions).values(rows).onConflictDoNothing();
  }

  /** In an edit's transaction: drops the rows of members no longer mentioned. */
  async keepOnly(tx: Database, messageId: string, userIds: readonly string[]): Promise<void> {
    await tx
      .delete(mentions)
      .where(and(eq(mentions.messageId, messageId), userIds.length > 0 ? notInArray(mentions.userId, [...userIds]) : undefined));
  }

  /** In a deletion's transaction: a deleted message mentions nobody any more. */
  async forget(tx: Database, messageId: string): Promise<void> {
    await tx.delete(mentions).where(eq(mentions.messageId, messageId));
  }

  /**
   * Who is told of a mention: the members among `userIds` (every member but
   * the author, for @room) who have not blocked the author.
   */
  async recipients(roomId: string, authorId: string, userIds: readonly string[] | 'room'): Promise<string[]> {
    const result = await this.db.execute<{ user_id: string }>(sql`
      select m.user_id from memberships m
      where m.room_id = ${roomId}::uuid and m.user_id <> ${authorId}::uuid
        ${userIds === 'room' ? sql`` : sql`and m.user_id = any(${uuidArray(userIds)}::uuid[])`}
        and not exists (select 1 from user_blocks b where b.blocker_id = m.user_id and b.blocked_id = ${authorId}::uuid)`);
    return rowsOf<{ user_id: string }>(result).map((row) => row.user_id);
  }

  /**
   * Room.unreadMentionCount for each of these rooms the user is a member of:
   * mentions of the user by id past their read positions (the room's for
   * timeline messages, the thread's for replies in threads they follow),
   * plus @room messages past the same positions that do not also name them;
   * none by the user themselves, by someone they blocked, or deleted. Each
   * term is a range scan of an index from a read position on.
   */
  async unreadCounts(userId: string, roomIds: readonly string[]): Promise<Array<{ roomId: string; count: number }>> {
    if (roomIds.length === 0) return [];
    const rows = await this.unreadCountsStatement({ userId, roomIds: uuidArray(roomIds) });
    return rows.map((row) => ({ roomId: row.room_id, count: Number(row.count) }));
  }
}

/** Ids (checked uuids) as one Postgres array parameter. */
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/** Not by someone the member (m) blocked. */
const UNBLOCKED = (author: string) =>
  `not exists (select 1 from user_blocks b where b.blocker_id = m.user_id and b.blocked_id = ${author})`;

/** MentionsStore.unreadCounts() says what it counts. */
const UNREAD_MENTIONS_SQL = `
select m.room_id, (
  (select count(*) from mentions um
    where um.user_id = m.user_id and um.room_id = m.room_id and um.in_timeline and um.seq > m.last_read_seq
      and ${UNBLOCKED('um.author_id')})
  + (select count(*) from thread_follows f
      join mentions um on um.user_id = f.user_id and um.thread_root_id = f.root_id and not um.in_timeline
        and um.seq > f.last_read_seq
    where f.user_id = m.user_id and f.room_id = m.room_id and f.subscribed and ${UNBLOCKED('um.author_id')})
  + (select count(*) from messages x
    where x.room_id = m.room_id and x.mention_room and x.seq > m.last_read_seq
      and (x.thread_root_id is null or x.show_in_room) and x.deleted_at is null
      and x.author_id <> m.user_id and not (m.user_id = any(x.mention_ids)) and ${UNBLOCKED('x.author_id')})
  + (select count(*) from thread_follows f
      join messages x on x.thread_root_id = f.root_id and x.seq > f.last_read_seq
    where f.user_id = m.user_id and f.room_id = m.room_id and f.subscribed
      and x.mention_room and not x.show_in_room and x.deleted_at is null
      and x.author_id <> m.user_id and not (m.user_id = any(x.mention_ids)) and ${UNBLOCKED('x.author_id')})
) as count
from memberships m
where m.user_id = $1::uuid and m.room_id = any($2::text::uuid[])`;

import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../../db/client.js';
import {
  memberships,
  messageColumns,
  messages,
  threadFollows,
  threads,
  type MessageRow,
  type ThreadRow,
} from '../../db/schema.js';

/** A viewer's relation to a thread: following or not, and its replies by others past their read position. */
export interface ThreadViewerState {
  rootId: string;
  subscribed: boolean;
  unreadCount: number;
}

/** Where a page of threads starts: after this thread in the page's order. */
export type ThreadAfter = { lastReplySeq: number; rootId: string } | { lastReplyAt: Date; rootId: string };

export class ThreadsStore {
  constructor(private readonly db: Database) {}

  /** A message by id (in `db`, a transaction, when given). */
  async findMessage(id: string, db: Database = this.db): Promise<MessageRow | null> {
    const [row] = await db.select(messageColumns).from(messages).where(eq(messages.id, id));
    return row ?? null;
  }

  /** In an edit's transaction: members newly mentioned in a reply follow its thread. */
  async followAll(tx: Database, rootId: string, roomId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await tx
      .insert(threadFollows)
      .values(userIds.map((userId) => ({ rootId, userId, roomId, subscribed: true, lastReadSeq: 0 })))
      .onConflictDoUpdate({ target: [threadFollows.rootId, threadFollows.userId], set: { subscribed: true } });
  }

  /**
   * In a reply's transaction: the thread's row (created by its first reply,
   * then counted up; the first ten repliers kept), the replier following it
   * with their read position at the reply, the mentioned members following
   * it, and the root's author following it unless they chose not to. Its
   * followers but the replier, to be told of the reply.
   */
  async recordReply(tx: Database, reply: MessageRow): Promise<string[]> {
    const rootId = reply.threadRootId!;
    await tx
      .insert(threads)
      .values({
        rootId,
        roomId: reply.roomId,
        replyCount: 1,
        lastReplyAt: reply.createdAt,
        lastReplySeq: reply.seq,
        participantIds: [reply.authorId],
      })
      .onConflictDoUpdate({
        target: threads.rootId,
        set: {
          replyCount: sql`${threads.replyCount} + 1`,
          lastReplyAt: sql`greatest(${threads.lastReplyAt}, excluded.last_reply_at)`,
          lastReplySeq: sql`greatest(${threads.lastReplySeq}, excluded.last_reply_seq)`,
          participantIds: sql`case when ${reply.authorId}::uuid = any(${threads.participantIds})
            or cardinality(${threads.participantIds}) >= 10
            then ${threads.participantIds} else ${threads.participantIds} || ${reply.authorId}::uuid end`,
        },
      });
    const [root] = await tx.select({ authorId: messages.authorId }).from(messages).where(eq(messages.id, rootId));
    const follow = (userId: string, subscribed: boolean, lastReadSeq = 0) => ({
      rootId,
      userId,
      roomId: reply.roomId,
      subscribed,
      lastReadSeq,
    });
    // The replier follows again (if they had stopped) and has read up to their reply.
    await tx
      .insert(threadFollows)
      .values(follow(reply.authorId, true, reply.seq))
      .onConflictDoUpdate({
        target: [threadFollows.rootId, threadFollows.userId],
        set: { subscribed: true, lastReadSeq: sql`greatest(${threadFollows.lastReadSeq}, excluded.last_read_seq)` },
      });
    const mentioned = reply.mentionIds.filter((id) => id !== reply.authorId);
    if (mentioned.length > 0) {
      await tx
        .insert(threadFollows)
        .values(mentioned.map((id) => follow(id, true)))
        .onConflictDoUpdate({ target: [threadFollows.rootId, threadFollows.userId], set: { subscribed: true } });
    }
    // The root's author follows from the first reply on, unless they unsubscribed (their row says so).
    if (root && root.authorId !== reply.authorId) {
      await tx.insert(threadFollows).values(follow(root.authorId, true)).onConflictDoNothing();
    }
    const followers = await tx
      .select({ userId: threadFollows.userId })
      .from(threadFollows)
      .where(and(eq(threadFollows.rootId, rootId), eq(threadFollows.subscribed, true)));
    return followers.map((f) => f.userId).filter((id) => id !== reply.authorId);
  }

  /** In a reply's deletion transaction: one reply fewer in its thread's count. */
  async replyDeleted(tx: Database, reply: MessageRow): Promise<void> {
    await tx
      .update(threads)
      .set({ replyCount: sql`greatest(${threads.replyCount} - 1, 0)` })
      .where(eq(threads.rootId, reply.threadRootId!));
  }

  async byRootIds(rootIds: readonly string[]): Promise<ThreadRow[]> {
    if (rootIds.length === 0) return [];
    return this.db
      .select()
      .from(threads)
      .where(inArray(threads.rootId, [...rootIds]));
  }

  /**
   * Follows (or stops following) a thread, keeping the read position; the
   * room id is the root's. Idempotent.
   */
  async setSubscribed(rootId: string, roomId: string, userId: string, subscribed: boolean): Promise<void> {
    await this.db
      .insert(threadFollows)
      .values({ rootId, userId, roomId, subscribed, lastReadSeq: 0 })
      .onConflictDoUpdate({ target: [threadFollows.rootId, threadFollows.userId], set: { subscribed } });
  }

  /** Moves the user's read position in the thread forward to `seq` (never backwards; not past the newest reply). */
  async markRead(rootId: string, roomId: string, userId: string, seq: number): Promise<void> {
    const newest = sql`coalesce((select ${threads.lastReplySeq} from ${threads} where ${threads.rootId} = ${rootId}::uuid), 0)`;
    await this.db
      .insert(threadFollows)
      .values({ rootId, userId, roomId, subscribed: false, lastReadSeq: sql`least(${seq}::int, ${newest})` })
      .onConflictDoUpdate({
        target: [threadFollows.rootId, threadFollows.userId],
        set: { lastReadSeq: sql`greatest(${threadFollows.lastReadSeq}, excluded.last_read_seq)` },
      });
  }

  /**
   * The user's state in each thread: following, and the replies by others
   * past their read position that are not deleted and not by someone they
   * blocked (0 when not following), counted over the thread's index from
   * the read position on.
   */
  async viewerStates(userId: string, rootIds: readonly string[]): Promise<ThreadViewerState[]> {
    if (rootIds.length === 0) return [];
    const rows = await this.db.execute<{ root_id: string; subscribed: boolean; unread: number | string }>(sql`
      select f.root_id, f.subscribed,
        case when not f.subscribed then 0 else (
          select count(*) from messages r
          where r.thread_root_id = f.root_id and r.seq > f.last_read_seq and r.author_id <> f.user_id
            and r.deleted_at is null
            and not exists (select 1 from user_blocks b where b.blocker_id = f.user_id and b.blocked_id = r.author_id)
        ) end as unread
      from thread_follows f
      where f.user_id = ${userId}::uuid and f.root_id = any(${`{${rootIds.join(',')}}`}::uuid[])`);
    return rowsOf<{ root_id: string; subscribed: boolean; unread: number | string }>(rows).map((row) => ({
      rootId: row.root_id,
      subscribed: row.subscribed,
      unreadCount: Number(row.unread),
    }));
  }

  /** A room's threads, newest reply first, `limit` after the cursor. */
  async ofRoom(roomId: string, after: { lastReplySeq: number } | null, limit: number): Promise<ThreadRow[]> {
    return this.db
      .select()
      .from(threads)
      .where(and(eq(threads.roomId, roomId), after ? lt(threads.lastReplySeq, after.lastReplySeq) : undefined))
      .orderBy(desc(threads.lastReplySeq))
      .limit(limit);
  }

  /**
   * The threads the user follows in rooms they are a member of, newest reply
   * first (ties by root id), `limit` after the cursor; with `unreadOnly`,
   * those with a reply by someone else past the user's read position.
   */
  async followed(
    userId: string,
    after: { lastReplyAt: Date; rootId: string } | null,
    limit: number,
    unreadOnly: boolean,
  ): Promise<ThreadRow[]> {
    const unread = sql`exists (
      select 1 from ${messages} r
      where r.thread_root_id = ${threadFollows.rootId} and r.seq > ${threadFollows.lastReadSeq} and r.author_id <> ${userId}::uuid
        and r.deleted_at is null
        and not exists (select 1 from user_blocks b where b.blocker_id = ${userId}::uuid and b.blocked_id = r.author_id))`;
    const rows = await this.db
      .select({ thread: threads })
      .from(threadFollows)
      .innerJoin(threads, eq(threads.rootId, threadFollows.rootId))
      .innerJoin(memberships, and(eq(memberships.roomId, threadFollows.roomId), eq(memberships.userId, threadFollows.userId)))
      .where(
        and(
          eq(threadFollows.userId, userId),
          eq(threadFollows.subscribed, true),
          after
            ? or(
                lt(threads.lastReplyAt, after.lastReplyAt),
                and(eq(threads.lastReplyAt, after.lastReplyAt), lt(threads.rootId, after.rootId)),
              )
            : undefined,
          unreadOnly ? unread : undefined,
        ),
      )
      .orderBy(desc(threads.lastReplyAt), desc(threads.rootId))
      .limit(limit);
    return rows.map((row) => row.thread);
  }
}

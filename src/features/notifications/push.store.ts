import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../../db/client.js';
import { pushSubscriptions, rooms, users, type MessageRow, type PushSubscriptionRow } from '../../db/schema.js';

export type NewPushSubscription = Pick<PushSubscriptionRow, 'endpoint' | 'p256dh' | 'auth'>;

/** The Web Push subscriptions and the question of who a message notifies. SQL only. */
export class PushStore {
  constructor(private readonly db: Database) {}

  /**
   * Stores the endpoint as the user's (taking it from whoever had it: a
   * browser profile signed into another account), as their newest, then
   * drops their oldest beyond `max`. Under a lock of the user's row, so two
   * registrations racing cannot leave `max + 1`.
   */
  async register(userId: string, subscription: NewPushSubscription, max: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('no key update');
      await tx
        .insert(pushSubscriptions)
        .values({ userId, ...subscription })
        .onConflictDoUpdate({
          target: pushSubscriptions.endpoint,
          set: { userId, p256dh: subscription.p256dh, auth: subscription.auth, createdAt: sql`now()` },
        });
      await tx.execute(sql`
        delete from push_subscriptions
        where user_id = ${userId}
          and id not in (
            select id from push_subscriptions where user_id = ${userId} order by created_at desc, id desc limit ${max}
          )`);
    });
  }

  /** Removes the user's own subscription of that endpoint; nothing when it is someone else's or unknown. */
  async unregister(userId: string, endpoint: string): Promise<void> {
    await this.db
      .delete(pushSubscriptions)
      .where(and(eq(pushSubscriptions.userId, userId), eq(pushSubscriptions.endpoint, endpoint)));
  }

  /** A push service said the endpoint is gone (404/410): whoever holds it loses it. */
  async drop(endpoint: string): Promise<void> {
    await this.db.delete(pushSubscriptions).where(eq(pushSubscriptions.endpoint, endpoint));
  }

  /** Whether anyone at all has a subscription (while nobody has, sends record nothing for Web Push). */
  async anySubscriptions(): Promise<boolean> {
    const [row] = await this.db.select({ id: pushSubscriptions.id }).from(pushSubscriptions).limit(1);
    return row !== undefined;
  }

  /** The user's subscriptions, oldest first. */
  ofUser(userId: string): Promise<PushSubscriptionRow[]> {
    return this.db
      .select()
      .from(pushSubscriptions)
      .where(eq(pushSubscriptions.userId, userId))
      .orderBy(asc(pushSubscriptions.createdAt), asc(pushSubscriptions.id));
  }

  ofUsers(userIds: readonly string[]): Promise<PushSubscriptionRow[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(pushSubscriptions)
      .where(inArray(pushSubscriptions.userId, [...userIds]));
  }

  /**
   * The members a committed message notifies who could be pushed to (at
   * least one subscription): not its author; not muted (by `now`); not
   * having blocked its author; by their level (their choice, else ALL in a
   * DIRECT room and MENTIONS in a GROUP room): ALL every message, MENTIONS
   * a mention of them, @room, or a reply in a thread they follow.
   */
  async recipients(message: MessageRow, now: Date): Promise<string[]> {
    const mentionIds = `{${message.mentionIds.join(',')}}`;
    const rows = rowsOf<{ user_id: string }>(
      await this.db.execute(sql`
        select m.user_id
        from memberships m
        join rooms r on r.id = m.room_id
        where m.room_id = ${message.roomId}
          and m.user_id <> ${message.authorId}
          and (m.notifications_muted_until is null or m.notifications_muted_until <= ${now.toISOString()}::timestamptz)
          and exists (select 1 from push_subscriptions p where p.user_id = m.user_id)
          and not exists (select 1 from user_blocks b where b.blocker_id = m.user_id and b.blocked_id = ${message.authorId})
          and case coalesce(m.notification_level, case when r.kind = 'DIRECT' then 'ALL' else 'MENTIONS' end)
            when 'ALL' then true
            when 'MENTIONS' then ${message.mentionRoom}
              or m.user_id = any(${mentionIds}::uuid[])
              or exists (
                select 1 from thread_follows f
                where f.root_id = ${message.threadRootId}::uuid and f.user_id = m.user_id and f.subscribed
              )
            else false
          end`),
    );
    return rows.map((row) => row.user_id);
  }

  /** What a push names: the room's name and the author's username. */
  async names(roomId: string, authorId: string): Promise<{ roomName: string | null; author: string } | null> {
    const [room] = await this.db.select({ name: rooms.name }).from(rooms).where(eq(rooms.id, roomId));
    const [author] = await this.db.select({ username: users.username }).from(users).where(eq(users.id, authorId));
    return room && author ? { roomName: room.name, author: author.username } : null;
  }
}

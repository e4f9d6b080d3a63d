import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../../db/client.js';
import { moderationActions, type ModerationActionKind, type ModerationActionRow, type RoomRole } from '../../db/schema.js';

/** One entry of the moderation log as it is written. */
export interface NewAction {
  roomId: string;
  kind: ModerationActionKind;
  actorId: string;
  targetId?: string | null;
  messageId?: string | null;
  role?: RoomRole | null;
  reason?: string | null;
  expiresAt?: Date | null;
}

/**
 * Appends an entry to the moderation log, on `db` or inside a transaction
 * whose change it records (so the action and its entry commit together).
 * The log is append-only: nothing updates a row, and only the retention
 * sweep deletes any.
 */
export async function appendAction(db: Database, action: NewAction, now: Date): Promise<ModerationActionRow> {
  const [row] = await db
    .insert(moderationActions)
    .values({
      roomId: action.roomId,
      kind: action.kind,
      actorId: action.actorId,
      targetId: action.targetId ?? null,
      messageId: action.messageId ?? null,
      role: action.role ?? null,
      reason: action.reason ?? null,
      expiresAt: action.expiresAt ?? null,
      createdAt: now,
    })
    .returning();
  return row!;
}

export class ModerationLogStore {
  constructor(private readonly db: Database) {}

  /**
   * A room's entries newest first, no older than `since`, before the entry
   * `beforeId` when given (an id of another room, or none, starts nowhere).
   */
  async page(roomId: string, first: number, since: Date, beforeId: string | null): Promise<ModerationActionRow[]> {
    const conditions = [eq(moderationActions.roomId, roomId), gte(moderationActions.createdAt, since)];
    if (beforeId !== null) {
      const [before] = await this.db
        .select({ position: moderationActions.position })
        .from(moderationActions)
        .where(and(eq(moderationActions.id, beforeId), eq(moderationActions.roomId, roomId)));
      if (!before) return [];
      conditions.push(lt(moderationActions.position, before.position));
    }
    return this.db
      .select()
      .from(moderationActions)
      .where(and(...conditions))
      .orderBy(desc(moderationActions.position))
      .limit(first);
  }

  async findByIds(ids: readonly string[]): Promise<ModerationActionRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(moderationActions)
      .where(inArray(moderationActions.id, [...ids]));
  }

  /**
   * Deletes up to `batch` entries older than `cutoff`, oldest first; how many.
   * One instance at a time: a transaction-scoped advisory lock that another
   * sweeping instance does not wait for (it sweeps next time).
   */
  async sweep(cutoff: Date, batch: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [lock] = rowsOf<{ locked: boolean }>(
        await tx.execute(sql`select pg_try_advisory_xact_lock(${SWEEP_LOCK}) as locked`),
      );
      if (!lock?.locked) return 0;
      const deleted = await tx.execute(sql`
        delete from ${moderationActions} where id in (
          select id from ${moderationActions} where created_at < ${cutoff.toISOString()}::text::timestamptz
          order by created_at limit ${batch})
        returning id`);
      return rowsOf(deleted).length;
    });
  }
}

/** The advisory lock key of the retention sweep (any constant no other lock uses). */
const SWEEP_LOCK = 2_100_021;

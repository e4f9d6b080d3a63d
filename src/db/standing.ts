/**
 * A user's standing in a room as two features' stores need it: rooms
 * (joining, invitations) and moderation (bans) must agree on what a ban in
 * force is and must not miss each other's rows, so both read it here.
 */
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { roomBans } from './schema.js';

/**
 * Serialises what changes one user's standing in one room (joining, being
 * invited, being banned or unbanned) for the rest of the caller's
 * transaction: without it, a join and a ban committing at once could each
 * miss the other's row, leaving a banned member.
 */
export async function lockStanding(tx: Database, roomId: string, userId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${roomId}:${userId}`}, 0))`);
}

/** Whether a ban of the user is in force at `now` (no end, or an end after it). */
export async function isBanned(db: Database, roomId: string, userId: string, now: Date): Promise<boolean> {
  const [row] = await db
    .select({ userId: roomBans.userId })
    .from(roomBans)
    .where(
      and(eq(roomBans.roomId, roomId), eq(roomBans.userId, userId), or(isNull(roomBans.expiresAt), gt(roomBans.expiresAt, now))),
    );
  return row !== undefined;
}

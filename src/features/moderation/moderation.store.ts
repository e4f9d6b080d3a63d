import { and, asc, desc, eq, gt, inArray, isNull, or } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import {
  memberships,
  roomBans,
  rooms,
  type MembershipRow,
  type ModerationActionRow,
  type RoomBanRow,
  type RoomRole,
  type RoomRow,
} from '../../db/schema.js';
import { isBanned, lockStanding } from '../../db/standing.js';
import { noOutbox, type Outbox } from '../../outbox/outbox.js';
import { appendAction } from './moderation-log.store.js';

/**
 * Judges an action on the rows as they are once locked (the actor's and the
 * target's memberships, null for a non-member): it throws to refuse, and
 * the transaction then changes nothing.
 */
export type Check = (actor: MembershipRow | null, target: MembershipRow | null) => void;

export interface Parties {
  roomId: string;
  actorId: string;
  targetId: string;
  now: Date;
  check: Check;
}

export interface RoomChanges {
  name?: string;
  slowModeSeconds?: number;
  frozen?: boolean;
}

/**
 * The moderation actions, each one transaction: lock the memberships of the
 * actor and the target (in user id order, before any room row, as sends
 * do), judge the action on those rows, change, and append the log entry. A
 * role changed or a member removed concurrently is therefore seen by the
 * judgement, never slipped past it.
 */
export class ModerationStore {
  /** @param outbox where kicks and bans are recorded, in their transactions */
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox = noOutbox,
  ) {}

  /** The actor's and target's memberships, locked for the transaction. */
  private async lock(tx: Database, roomId: string, userIds: string[]): Promise<Map<string, MembershipRow>> {
    const rows = await tx
      .select()
      .from(memberships)
      .where(and(eq(memberships.roomId, roomId), inArray(memberships.userId, [...new Set(userIds)])))
      .orderBy(asc(memberships.userId))
      .for('update');
    return new Map(rows.map((row) => [row.userId, row]));
  }

  private async judged(tx: Database, { roomId, actorId, targetId, check }: Parties) {
    const locked = await this.lock(tx, roomId, [actorId, targetId]);
    const actor = locked.get(actorId) ?? null;
    const target = locked.get(targetId) ?? null;
    check(actor, target);
    return { actor: actor!, target };
  }

  /**
   * Gives the target another role. OWNER hands the room over: the actor
   * becomes ADMIN first, then the target OWNER (two statements, so the
   * one-OWNER index never sees two), each change logged. Unchanged: no entry.
   */
  async setRole(parties: Parties, role: RoomRole): Promise<{ member: MembershipRow; actions: ModerationActionRow[] }> {
    const { roomId, actorId, targetId, now } = parties;
    return this.db.transaction(async (tx) => {
      const { target } = await this.judged(tx, parties);
      if (target!.role === role) return { member: target!, actions: [] };
      const actions: ModerationActionRow[] = [];
      if (role === 'OWNER') {
        await tx
          .update(memberships)
          .set({ role: 'ADMIN' })
          .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, actorId)));
        actions.push(await appendAction(tx, { roomId, kind: 'ROLE_CHANGED', actorId, targetId: actorId, role: 'ADMIN' }, now));
      }
      const [member] = await tx
        .update(memberships)
        .set({ role })
        .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, targetId)))
        .returning();
      actions.unshift(await appendAction(tx, { roomId, kind: 'ROLE_CHANGED', actorId, targetId, role }, now));
      return { member: member!, actions };
    });
  }

  /** Ends the target's membership. */
  async kick(parties: Parties, reason: string | null): Promise<ModerationActionRow> {
    const { roomId, actorId, targetId, now } = parties;
    return this.db.transaction(async (tx) => {
      await this.judged(tx, parties);
      await tx.delete(memberships).where(and(eq(memberships.roomId, roomId), eq(memberships.userId, targetId)));
      await this.outbox.record(tx, { type: 'member.kicked', roomId, userId: targetId, actorId, reason });
      return appendAction(tx, { roomId, kind: 'KICKED', actorId, targetId, reason }, now);
    });
  }

  /**
   * Bans the target (a member or not) until `expiresAt` (null: until
   * unbanned), replacing a ban they had, and ends their membership. Under
   * the same per-user lock as joining, so a join cannot slip past it.
   */
  async ban(
    parties: Parties,
    reason: string | null,
    expiresAt: Date | null,
  ): Promise<{ ban: RoomBanRow; wasMember: boolean; action: ModerationActionRow }> {
    const { roomId, actorId, targetId, now } = parties;
    return this.db.transaction(async (tx) => {
      await lockStanding(tx, roomId, targetId);
      const { target } = await this.judged(tx, parties);
      const values = { roomId, userId: targetId, bannedBy: actorId, reason, createdAt: now, expiresAt };
      const [ban] = await tx
        .insert(roomBans)
        .values(values)
        .onConflictDoUpdate({ target: [roomBans.roomId, roomBans.userId], set: values })
        .returning();
      if (target) await tx.delete(memberships).where(and(eq(memberships.roomId, roomId), eq(memberships.userId, targetId)));
      const action = await appendAction(tx, { roomId, kind: 'BANNED', actorId, targetId, reason, expiresAt }, now);
      await this.outbox.record(tx, { type: 'member.banned', roomId, userId: targetId, actorId, reason, expiresAt });
      return { ban: ban!, wasMember: target !== null, action };
    });
  }

  /** Lifts the target's ban; the log entry, or null when there was no ban in force (nothing to log). */
  async unban(parties: Parties): Promise<ModerationActionRow | null> {
    const { roomId, actorId, targetId, now } = parties;
    return this.db.transaction(async (tx) => {
      await lockStanding(tx, roomId, targetId);
      await this.judged(tx, parties);
      const active = await isBanned(tx, roomId, targetId, now);
      await tx.delete(roomBans).where(and(eq(roomBans.roomId, roomId), eq(roomBans.userId, targetId)));
      return active ? appendAction(tx, { roomId, kind: 'UNBANNED', actorId, targetId }, now) : null;
    });
  }

  /**
   * Mutes the target until `until`, or lifts their mute (null). Lifting a
   * mute that is not in force changes nothing and logs nothing.
   */
  async mute(
    parties: Parties,
    until: Date | null,
    reason: string | null,
  ): Promise<{ member: MembershipRow; action: ModerationActionRow | null }> {
    const { roomId, actorId, targetId, now } = parties;
    return this.db.transaction(async (tx) => {
      const { target } = await this.judged(tx, parties);
      const wasMuted = target!.mutedUntil !== null && target!.mutedUntil.getTime() > now.getTime();
      if (until === null && !wasMuted) return { member: target!, action: null };
      const [member] = await tx
        .update(memberships)
        .set({ mutedUntil: until })
        .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, targetId)))
        .returning();
      const action =
        until === null
          ? await appendAction(tx, { roomId, kind: 'UNMUTED', actorId, targetId, reason }, now)
          : await appendAction(tx, { roomId, kind: 'MUTED', actorId, targetId, reason, expiresAt: until }, now);
      return { member: member!, action };
    });
  }

  /**
   * Changes the room's name, slow mode or freeze; the log entry's reason
   * says what changed (null entry when nothing did).
   */
  async updateRoom(
    roomId: string,
    actorId: string,
    changes: RoomChanges,
    now: Date,
    check: (actor: MembershipRow | null) => void,
  ): Promise<{ room: RoomRow; action: ModerationActionRow | null }> {
    return this.db.transaction(async (tx) => {
      const actor = (await this.lock(tx, roomId, [actorId])).get(actorId) ?? null;
      check(actor);
      const [before] = await tx.select().from(rooms).where(eq(rooms.id, roomId)).for('no key update');
      const changed = (Object.keys(changes) as Array<keyof RoomChanges>).filter(
        (key) => changes[key] !== undefined && changes[key] !== before![key],
      );
      if (changed.length === 0) return { room: before!, action: null };
      const [room] = await tx
        .update(rooms)
        .set(Object.fromEntries(changed.map((key) => [key, changes[key]])))
        .where(eq(rooms.id, roomId))
        .returning();
      const reason = changed.map((key) => `${key}: ${JSON.stringify(before![key])} -> ${JSON.stringify(room![key])}`).join('; ');
      const action = await appendAction(tx, { roomId, kind: 'ROOM_UPDATED', actorId, reason }, now);
      return { room: room!, action };
    });
  }

  /** The room's bans in force, newest first. */
  async activeBans(roomId: string, now: Date): Promise<RoomBanRow[]> {
    return this.db
      .select()
      .from(roomBans)
      .where(and(eq(roomBans.roomId, roomId), or(isNull(roomBans.expiresAt), gt(roomBans.expiresAt, now))))
      .orderBy(desc(roomBans.createdAt), asc(roomBans.userId));
  }
}

import { and, asc, desc, eq, ilike, inArray, ne, sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../../db/client.js';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.js';
import { memberships, rooms, type MembershipRow, type RoomRole, type RoomRow, type RoomVisibility } from '../../db/schema.js';
import { isBanned, lockStanding } from '../../db/standing.js';
import { noOutbox, type Outbox } from '../../outbox/outbox.js';
import { PERMISSIONS, RANK, ROLES } from '../moderation/permissions.js';

/** What adding a member came to. */
export type AddOutcome = 'added' | 'already' | 'banned' | 'missing';

/** What leaving came to: left, not a member, or refused to an OWNER who still has members with them. */
export type LeaveOutcome = 'left' | 'not-member' | 'owner-with-members';

/** The roles that moderate (PERMISSIONS.moderate). */
const MODERATING_ROLES = ROLES.filter((role) => RANK[role] >= RANK[PERMISSIONS.moderate.least]);

export class RoomsStore {
  /** Every authorised request runs it: built once and prepared. */
  private readonly roomWithMembershipStatement;

  /** @param outbox where a membership that begins or ends is recorded, in its transaction */
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox = noOutbox,
  ) {
    this.roomWithMembershipStatement = db
      .select({ room: rooms, membership: memberships })
      .from(rooms)
      .leftJoin(memberships, and(eq(memberships.roomId, rooms.id), eq(memberships.userId, sql.placeholder('userId'))))
      .where(eq(rooms.id, sql.placeholder('roomId')))
      .prepare('room_with_membership');
  }

  /** The room and its OWNER membership, atomically. */
  async createGroup(name: string, visibility: RoomVisibility, ownerId: string): Promise<RoomRow> {
    return this.db.transaction(async (tx) => {
      const [room] = await tx.insert(rooms).values({ kind: 'GROUP', visibility, name, createdBy: ownerId }).returning();
      await tx.insert(memberships).values({ roomId: room!.id, userId: ownerId, role: 'OWNER' });
      await this.outbox.record(tx, { type: 'member.joined', roomId: room!.id, userId: ownerId });
      return room!;
    });
  }

  /**
   * The DIRECT room of two users, created on first use. The unique direct_key
   * makes concurrent calls from both sides converge on one row: the loser's
   * insert does nothing and the select that follows sees the winner's commit.
   * Both users are (re-)added as members, so a pair that left can come back;
   * `added` names those who were not members before.
   */
  async getOrCreateDirect(viewerId: string, otherId: string): Promise<{ room: RoomRow; added: string[] }> {
    const directKey = [viewerId, otherId].sort().join(':');
    return this.db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(rooms)
        .values({ kind: 'DIRECT', visibility: 'PRIVATE', name: null, createdBy: viewerId, directKey })
        .onConflictDoNothing({ target: rooms.directKey })
        .returning();
      const room = inserted ?? (await tx.select().from(rooms).where(eq(rooms.directKey, directKey)))[0]!;
      const added = await tx
        .insert(memberships)
        .values([viewerId, otherId].map((userId) => ({ roomId: room.id, userId, role: 'MEMBER' as const })))
        .onConflictDoNothing()
        .returning({ userId: memberships.userId });
      for (const { userId } of added) await this.outbox.record(tx, { type: 'member.joined', roomId: room.id, userId });
      return { room, added: added.map((m) => m.userId) };
    });
  }

  async findById(id: string): Promise<RoomRow | null> {
    const [row] = await this.db.select().from(rooms).where(eq(rooms.id, id));
    return row ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<RoomRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(rooms)
      .where(inArray(rooms.id, [...ids]));
  }

  /** The room and the user's membership of it, in one query: null when there is no such room. */
  async roomWithMembership(roomId: string, userId: string): Promise<{ room: RoomRow; membership: MembershipRow | null } | null> {
    const [row] = await this.roomWithMembershipStatement.execute({ roomId, userId });
    return row ?? null;
  }

  async membership(roomId: string, userId: string): Promise<MembershipRow | null> {
    const [row] = await this.db
      .select()
      .from(memberships)
      .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)));
    return row ?? null;
  }

  /**
   * Adds a member unless they are banned (now, by the app's clock): 'added',
   * 'already' a member, 'banned', or 'missing' when the room or user is gone
   * (a foreign key says so). A GROUP room that has no OWNER (its owner left
   * it empty) gets the newcomer as its OWNER. The room row is share-locked
   * first, so this waits for an OWNER's leave under way (leave()).
   */
  async addMember(roomId: string, userId: string, role: RoomRole, now: Date): Promise<AddOutcome> {
    try {
      return await this.db.transaction(async (tx) => {
        await lockStanding(tx, roomId, userId);
        const [room] = await tx.select({ kind: rooms.kind }).from(rooms).where(eq(rooms.id, roomId)).for('share');
        if (!room) return 'missing';
        if (await isBanned(tx, roomId, userId, now)) return 'banned';
        const ownerless =
          room.kind === 'GROUP' &&
          (
            await tx
              .select({ userId: memberships.userId })
              .from(memberships)
              .where(and(eq(memberships.roomId, roomId), eq(memberships.role, 'OWNER')))
          ).length === 0;
        const rows = await tx
          .insert(memberships)
          .values({ roomId, userId, role: ownerless ? 'OWNER' : role })
          .onConflictDoNothing()
          .returning();
        if (rows.length === 0) return 'already';
        await this.outbox.record(tx, { type: 'member.joined', roomId, userId });
        return 'added';
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) return 'missing';
      // Two newcomers to an ownerless room at once: one became its OWNER; the other joins again, plainly.
      if (isUniqueViolation(error, 'memberships_owner_key')) return this.addMember(roomId, userId, role, now);
      throw error;
    }
  }

  /**
   * Ends the user's membership, unless they are the OWNER and others are
   * still members: ownership moves only by setting another member OWNER.
   * Their membership row, then the room row, is locked first (the order of
   * sends), so no newcomer can join in between and be left without an owner.
   */
  async leave(roomId: string, userId: string): Promise<LeaveOutcome> {
    return this.db.transaction(async (tx) => {
      const [mine] = await tx
        .select({ role: memberships.role })
        .from(memberships)
        .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
        .for('update');
      if (!mine) return 'not-member';
      if (mine.role === 'OWNER') {
        await tx.select({ id: rooms.id }).from(rooms).where(eq(rooms.id, roomId)).for('no key update');
        const [other] = await tx
          .select({ userId: memberships.userId })
          .from(memberships)
          .where(and(eq(memberships.roomId, roomId), ne(memberships.userId, userId)))
          .limit(1);
        if (other) return 'owner-with-members';
      }
      await tx.delete(memberships).where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)));
      await this.outbox.record(tx, { type: 'member.left', roomId, userId });
      return 'left';
    });
  }

  /** The user's memberships among these rooms. */
  async membershipsOfUser(userId: string, roomIds: readonly string[]): Promise<MembershipRow[]> {
    if (roomIds.length === 0) return [];
    return this.db
      .select()
      .from(memberships)
      .where(and(eq(memberships.userId, userId), inArray(memberships.roomId, [...roomIds])));
  }

  /** Whether the user is banned from the room now. */
  banned(roomId: string, userId: string, now: Date): Promise<boolean> {
    return isBanned(this.db, roomId, userId, now);
  }

  /** Which of these users are MODERATOR or above in the room. */
  async moderatorsAmong(roomId: string, userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(
        and(
          eq(memberships.roomId, roomId),
          inArray(memberships.userId, [...userIds]),
          inArray(memberships.role, MODERATING_ROLES),
        ),
      );
    return rows.map((row) => row.userId);
  }

  /** Most recent activity (creation or newest message) first. */
  async roomsOfUser(userId: string): Promise<RoomRow[]> {
    const rows = await this.db
      .select({ room: rooms })
      .from(memberships)
      .innerJoin(rooms, eq(rooms.id, memberships.roomId))
      .where(eq(memberships.userId, userId))
      .orderBy(desc(rooms.lastActivityAt), desc(rooms.id));
    return rows.map((r) => r.room);
  }

  async publicRooms(query: string | null, limit: number): Promise<RoomRow[]> {
    const conditions = [eq(rooms.visibility, 'PUBLIC'), eq(rooms.kind, 'GROUP')];
    if (query) conditions.push(ilike(rooms.name, `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
    return this.db
      .select()
      .from(rooms)
      .where(and(...conditions))
      .orderBy(asc(sql`lower(${rooms.name})`), asc(rooms.name), asc(rooms.id))
      .limit(limit);
  }

  /** Members of several rooms, each room's in order of joining. */
  async membersOf(roomIds: readonly string[]): Promise<MembershipRow[]> {
    if (roomIds.length === 0) return [];
    return this.db
      .select()
      .from(memberships)
      .where(inArray(memberships.roomId, [...roomIds]))
      .orderBy(asc(memberships.joinedAt), asc(memberships.userId));
  }

  /** The memberships, among the given pairs' rooms and users, that exist. */
  async existingMemberships(
    roomIds: readonly string[],
    userIds: readonly string[],
  ): Promise<Array<{ roomId: string; userId: string }>> {
    if (roomIds.length === 0 || userIds.length === 0) return [];
    return this.db
      .select({ roomId: memberships.roomId, userId: memberships.userId })
      .from(memberships)
      .where(and(inArray(memberships.roomId, [...roomIds]), inArray(memberships.userId, [...userIds])));
  }

  /**
   * Which of these (room, user) pairs are not memberships (any more): usually
   * none, so a poll over many subscribers reads back next to nothing. The
   * pairs travel as one JSON parameter, so any number fits.
   */
  async notMembers(pairs: ReadonlyArray<{ roomId: string; userId: string }>): Promise<Array<{ roomId: string; userId: string }>> {
    if (pairs.length === 0) return [];
    const wanted = JSON.stringify(pairs.map((p) => ({ r: p.roomId, u: p.userId })));
    const result = await this.db.execute<{ roomId: string; userId: string }>(sql`
      select p.r as "roomId", p.u as "userId" from jsonb_to_recordset(${wanted}::jsonb) as p(r uuid, u uuid)
      where not exists (select 1 from ${memberships} m where m.room_id = p.r and m.user_id = p.u)`);
    return rowsOf<{ roomId: string; userId: string }>(result);
  }

  /** Each room's newest committed seq. */
  async heads(roomIds: readonly string[]): Promise<Array<{ id: string; lastSeq: number }>> {
    if (roomIds.length === 0) return [];
    return this.db
      .select({ id: rooms.id, lastSeq: rooms.lastSeq })
      .from(rooms)
      .where(inArray(rooms.id, [...roomIds]));
  }
}

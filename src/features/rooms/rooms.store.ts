import { and, asc, desc, eq, ilike, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { isForeignKeyViolation } from '../../db/errors.js';
import { memberships, rooms, type MembershipRow, type RoomRole, type RoomRow, type RoomVisibility } from '../../db/schema.js';

export class RoomsStore {
  /** Every authorised request runs it: built once and prepared. */
  private readonly roomWithMembershipStatement;

  constructor(private readonly db: Database) {
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

  /** 'added', 'already' a member, or 'missing' when the room or user is gone (a foreign key says so). */
  async addMember(roomId: string, userId: string, role: RoomRole): Promise<'added' | 'already' | 'missing'> {
    try {
      const rows = await this.db.insert(memberships).values({ roomId, userId, role }).onConflictDoNothing().returning();
      return rows.length > 0 ? 'added' : 'already';
    } catch (error) {
      if (isForeignKeyViolation(error)) return 'missing';
      throw error;
    }
  }

  /** True when the user was a member. */
  async removeMember(roomId: string, userId: string): Promise<boolean> {
    const rows = await this.db
      .delete(memberships)
      .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
      .returning({ userId: memberships.userId });
    return rows.length > 0;
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
    // postgres.js answers with the rows, PGlite with { rows }.
    const rows: unknown = Array.isArray(result) ? result : (result as { rows: unknown[] }).rows;
    return rows as Array<{ roomId: string; userId: string }>;
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

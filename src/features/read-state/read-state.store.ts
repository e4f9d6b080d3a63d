import { and, eq, sql } from 'drizzle-orm';
import { prepareStatement, type Database } from '../../db/client.js';
import { memberships, rooms } from '../../db/schema.js';

/** A member's read position in one room and what others posted after it. */
export interface ReadState {
  roomId: string;
  lastReadSeq: number;
  unreadCount: number;
}

export class ReadStateStore {
  private readonly readStates: ReturnType<typeof prepareStatement<ReadStateRow>>;

  constructor(private readonly db: Database) {
    this.readStates = prepareStatement<ReadStateRow>(db, 'read_states', READ_STATES_SQL, ['userId', 'roomIds']);
  }

  /**
   * One UPDATE: last_read_seq = greatest(last_read_seq, least(seq, rooms.last_seq)),
   * so the position never moves backwards and a seq past the newest message
   * counts as the newest. The row is written only when the position moves:
   * the new position, or null when it did not move (or the user is not a member).
   */
  async advance(roomId: string, userId: string, seq: number): Promise<number | null> {
    const target = sql`least(${seq}::int, ${rooms.lastSeq})`;
    const [row] = await this.db
      .update(memberships)
      .set({ lastReadSeq: sql`greatest(${memberships.lastReadSeq}, ${target})` })
      .from(rooms)
      .where(
        and(
          eq(memberships.roomId, roomId),
          eq(memberships.userId, userId),
          eq(rooms.id, memberships.roomId),
          sql`${target} > ${memberships.lastReadSeq}`,
        ),
      )
      .returning({ lastReadSeq: memberships.lastReadSeq });
    return row?.lastReadSeq ?? null;
  }

  /**
   * The user's read state in each of the rooms they are a member of, in one
   * query, without reading the unread messages themselves: timeline
   * messages after the read position are the room's timeline count minus
   * the timeline ordinal of the message at the position (two index probes),
   * less the reader's own and those of users they blocked (their messages
   * still arrive, but are not unread), counted over (room, author, seq)
   * from the position on. Thread replies not shown in the room are not
   * counted (Thread.unreadCount counts them). Rooms the user is not a
   * member of are absent.
   */
  async of(userId: string, roomIds: readonly string[]): Promise<ReadState[]> {
    if (roomIds.length === 0) return [];
    const rows = await this.readStates({ userId, roomIds: `{${roomIds.join(',')}}` });
    return rows.map((row) => ({
      roomId: row.roomId,
      lastReadSeq: Number(row.lastReadSeq),
      unreadCount: Number(row.unreadCount),
    }));
  }
}

interface ReadStateRow {
  roomId: string;
  lastReadSeq: number;
  unreadCount: number | string;
}

/** ReadStateStore.of() says what it counts. */
const READ_STATES_SQL = `select m.room_id as "roomId", m.last_read_seq as "lastReadSeq", greatest(0,
    r.timeline_count
    - coalesce((select x.timeline_no from messages x where x.room_id = m.room_id and x.seq = m.last_read_seq), 0)
    - (select count(*) from messages x
        where x.room_id = m.room_id and x.seq > m.last_read_seq
          and x.author_id in (select m.user_id union all select b.blocked_id from user_blocks b where b.blocker_id = m.user_id)
          and (x.thread_root_id is null or x.show_in_room))
  ) as "unreadCount"
  from memberships m join rooms r on r.id = m.room_id
  where m.user_id = $1::uuid and m.room_id = any($2::text::uuid[])`;

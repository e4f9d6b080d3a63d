import type { Viewer } from '../../auth/viewer.js';
import type { RoomRow } from '../../db/schema.js';
import type { Publisher } from '../../realtime/publisher.js';
import { requireCount } from '../../validation.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { ReadState, ReadStateStore } from './read-state.store.js';

export class ReadStateService {
  constructor(private readonly deps: { store: ReadStateStore; rooms: RoomsService; publish: Publisher }) {}

  /**
   * Marks the room read up to and including `seq` for the viewer. A ReadReceipt
   * goes to the room only when the position moved, after the write, carrying
   * the position actually stored (a seq past the newest counts as the newest).
   */
  async markRead(viewer: Viewer, roomId: string, seq: number): Promise<RoomRow> {
    requireCount('seq', seq, Number.MAX_SAFE_INTEGER); // past the newest counts as the newest
    const { room } = await this.deps.rooms.requireMembership(viewer, roomId);
    const moved = await this.deps.store.advance(room.id, viewer.userId, seq);
    if (moved !== null) this.deps.publish.room(room.id, { type: 'read', userId: viewer.userId, seq: moved });
    return room;
  }

  /**
   * Whether the viewer is a member of each room, in the order asked. Members'
   * read positions (RoomMember.lastReadSeq) are for the room's members: a
   * PUBLIC room seen from outside shows its members but not their activity.
   */
  async isMemberOf(viewer: Viewer | null, roomIds: readonly string[]): Promise<boolean[]> {
    const mine = viewer ? await this.deps.rooms.existingMemberships([...new Set(roomIds)], [viewer.userId]) : [];
    const member = new Set(mine.map((m) => m.roomId));
    return roomIds.map((roomId) => member.has(roomId));
  }

  /** The viewer's read state per room, in the order asked; zeros where the viewer is not a member. */
  async of(viewer: Viewer | null, roomIds: readonly string[]): Promise<ReadState[]> {
    const rows = viewer ? await this.deps.store.of(viewer.userId, [...new Set(roomIds)]) : [];
    const byRoom = new Map(rows.map((row) => [row.roomId, row]));
    return roomIds.map((roomId) => byRoom.get(roomId) ?? { roomId, lastReadSeq: 0, unreadCount: 0 });
  }
}

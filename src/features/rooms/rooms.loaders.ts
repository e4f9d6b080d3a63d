import DataLoader from 'dataloader';
import type { MembershipRow, RoomRow } from '../../db/schema.js';
import type { RoomsService } from './rooms.service.js';

export interface RoomsLoaders {
  room: DataLoader<string, RoomRow | null>;
  /** Room.members by room id; no cache, members come and go while a subscription lives. */
  members: DataLoader<string, MembershipRow[]>;
}

export function createRoomsLoaders(rooms: RoomsService): RoomsLoaders {
  return {
    room: new DataLoader(async (ids) => {
      const rows = new Map((await rooms.findByIds(ids)).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id) ?? null);
    }),
    members: new DataLoader(
      async (roomIds) => {
        const rows = await rooms.membersOf(roomIds);
        return roomIds.map((id) => rows.filter((row) => row.roomId === id));
      },
      { cache: false },
    ),
  };
}

import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { ReadStateService } from './read-state.service.js';
import type { ReadState } from './read-state.store.js';

export interface ReadStateLoaders {
  /** The viewer's read state (Room.lastReadSeq, Room.unreadCount) by room id; no cache, it moves with every message. */
  readState: DataLoader<string, ReadState>;
  /** Whether the viewer is a member of a room, by room id (RoomMember.lastReadSeq shows only to members). */
  viewerIsMember: DataLoader<string, boolean>;
}

/** `viewer` is read only when a batch runs (see createMessagesLoaders). */
export function createReadStateLoaders(readState: ReadStateService, viewer: () => Viewer | null): ReadStateLoaders {
  return {
    readState: new DataLoader((roomIds) => readState.of(viewer(), roomIds), { cache: false }),
    viewerIsMember: new DataLoader((roomIds) => readState.isMemberOf(viewer(), roomIds)),
  };
}

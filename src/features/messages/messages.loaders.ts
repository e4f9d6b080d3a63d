import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { MessageRow } from '../../db/schema.js';
import type { MessagesService } from './messages.service.js';

export interface MessagesLoaders {
  message: DataLoader<string, MessageRow | null>;
  /** Room.lastMessage by room id; no cache, since a subscription's context outlives a room's newest message. */
  lastMessage: DataLoader<string, MessageRow | null>;
}

/** `viewer` is read only when a batch runs, so a shared rendering can tell whether it depended on who looks. */
export function createMessagesLoaders(messages: MessagesService, viewer: () => Viewer | null): MessagesLoaders {
  return {
    message: new DataLoader(async (ids) => {
      const rows = new Map((await messages.findByIds(ids)).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id) ?? null);
    }),
    lastMessage: new DataLoader((roomIds) => messages.lastOfRooms(viewer(), roomIds), { cache: false }),
  };
}

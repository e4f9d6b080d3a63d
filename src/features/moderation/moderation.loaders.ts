import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { MembershipRow, ModerationActionRow } from '../../db/schema.js';
import type { ModerationService } from './moderation.service.js';

export interface ModerationLoaders {
  /** The viewer's membership by room id (Room.viewerRole, Room.viewerMutedUntil). */
  viewerMembership: DataLoader<string, MembershipRow | null>;
  moderationAction: DataLoader<string, ModerationActionRow | null>;
}

/** `viewer` is read only when a batch runs (see createMessagesLoaders). */
export function createModerationLoaders(moderation: ModerationService, viewer: () => Viewer | null): ModerationLoaders {
  return {
    viewerMembership: new DataLoader((roomIds) => moderation.viewerMemberships(viewer(), roomIds)),
    moderationAction: new DataLoader(async (ids) => {
      const rows = new Map((await moderation.findActions(ids)).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id) ?? null);
    }),
  };
}

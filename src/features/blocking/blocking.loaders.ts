import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { BlockingService } from './blocking.service.js';

export interface BlockingLoaders {
  /** User.blockedByViewer by user id. */
  blockedByViewer: DataLoader<string, boolean>;
}

/** `viewer` is read only when a batch runs (see createMessagesLoaders). */
export function createBlockingLoaders(blocking: BlockingService, viewer: () => Viewer | null): BlockingLoaders {
  return { blockedByViewer: new DataLoader((userIds) => blocking.blockedByViewer(viewer(), userIds)) };
}

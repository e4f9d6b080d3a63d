import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { ThreadModel } from './threads.mappers.js';
import type { ThreadsService } from './threads.service.js';
import type { ThreadViewerState } from './threads.store.js';

export interface ThreadsLoaders {
  /** A thread's summary by its root's id (Message.thread, ThreadReply.thread); null before a first reply. */
  thread: DataLoader<string, ThreadModel | null>;
  /** The viewer's following and unread count by root id; no cache, they move with every reply. */
  threadViewer: DataLoader<string, ThreadViewerState>;
}

/** `viewer` is read only when a batch runs (see createMessagesLoaders). */
export function createThreadsLoaders(threads: ThreadsService, viewer: () => Viewer | null): ThreadsLoaders {
  return {
    thread: new DataLoader(
      async (rootIds) => {
        const rows = new Map((await threads.byRootIds(rootIds)).map((row) => [row.rootId, row]));
        return rootIds.map((id) => rows.get(id) ?? null);
      },
      { cache: false },
    ),
    threadViewer: new DataLoader((rootIds) => threads.viewerStates(viewer(), rootIds), { cache: false }),
  };
}

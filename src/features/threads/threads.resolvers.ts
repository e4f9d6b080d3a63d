import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';
import { present } from '../users/users.loaders.js';
import { emptyThread } from './threads.mappers.js';

export const threadsResolvers: Resolvers = {
  Query: {
    threadMessages: (_, { threadRootId, ...page }, { viewer, services }) =>
      services.threads.replies(requireViewer(viewer), threadRootId, page),
    threads: (_, { roomId, first, after }, { viewer, services }) =>
      services.threads.ofRoom(requireViewer(viewer), roomId, first, after),
    myThreads: (_, { first, after, unreadOnly }, { viewer, services }) =>
      services.threads.followed(requireViewer(viewer), first, after, unreadOnly === true),
  },
  Mutation: {
    subscribeThread: (_, { threadRootId }, { viewer, services }) =>
      services.threads.subscribe(requireViewer(viewer), threadRootId, true),
    unsubscribeThread: (_, { threadRootId }, { viewer, services }) =>
      services.threads.subscribe(requireViewer(viewer), threadRootId, false),
    markThreadRead: (_, { threadRootId, seq }, { viewer, services }) =>
      services.threads.markRead(requireViewer(viewer), threadRootId, seq),
  },
  Message: {
    showInRoom: (message) => message.threadRootId !== null && message.showInRoom,
    thread: (message, _, { loaders }) => (message.threadRootId ? null : loaders.thread.load(message.id)),
  },
  Thread: {
    root: async (thread, _, { loaders }) => (await loaders.message.load(thread.rootId))!,
    participants: async (thread, _, { loaders }) => present(await loaders.user.loadMany(thread.participantIds)),
    viewerSubscribed: async (thread, _, { loaders }) => (await loaders.threadViewer.load(thread.rootId)).subscribed,
    unreadCount: async (thread, _, { loaders }) => (await loaders.threadViewer.load(thread.rootId)).unreadCount,
  },
  ThreadReply: {
    thread: async (event, _, { loaders }) => {
      const rootId = event.message.threadRootId!;
      return (await loaders.thread.load(rootId)) ?? emptyThread(rootId, event.message.roomId);
    },
  },
};

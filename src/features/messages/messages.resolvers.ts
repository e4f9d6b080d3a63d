import { requireViewer } from '../../auth/viewer.js';
import type { MessageRow } from '../../db/schema.js';
import type { Resolvers } from '../../generated/graphql.js';
import { encodeCursor } from './cursors.js';

export const messagesResolvers: Resolvers = {
  Query: {
    messages: (_, { roomId, ...page }, { viewer, services }) => services.messages.history(requireViewer(viewer), roomId, page),
  },
  Mutation: {
    sendMessage: (_, { input }, { viewer, services }) => services.messages.send(requireViewer(viewer), input),
  },
  Subscription: {
    messageAdded: {
      subscribe: (_, { roomId, after }, { viewer, services }) =>
        services.messages.subscribe(requireViewer(viewer), roomId, after),
      resolve: (message: MessageRow) => message,
    },
  },
  Message: {
    room: async (message, _, { loaders }) => (await loaders.room.load(message.roomId))!,
    author: async (message, _, { loaders }) => (await loaders.user.load(message.authorId))!,
    body: (message) => (message.deletedAt ? '' : message.body),
    replyTo: (message, _, { loaders }) => (message.replyToId ? loaders.message.load(message.replyToId) : null),
    // Reactions arrive with the reactions feature; until then no message has any.
    reactions: () => [],
    cursor: (message) => encodeCursor(message.roomId, message.seq),
  },
  Reaction: {
    users: async (group, _, { loaders }) => (await loaders.user.loadMany(group.userIds)).filter((u) => u !== null && !(u instanceof Error)) as never,
  },
};

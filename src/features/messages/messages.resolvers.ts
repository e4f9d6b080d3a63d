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
    editMessage: (_, { input }, { viewer, services }) => services.messages.edit(requireViewer(viewer), input),
    deleteMessage: (_, { id }, { viewer, services }) => services.messages.delete(requireViewer(viewer), id),
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
    cursor: (message) => encodeCursor(message.roomId, message.seq),
  },
  Room: {
    lastMessage: (room, _, { loaders }) => loaders.lastMessage.load(room.id),
  },
};

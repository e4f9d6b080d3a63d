import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';

export const pinsResolvers: Resolvers = {
  Mutation: {
    pinMessage: (_, { messageId }, { viewer, services }) => services.pins.pin(requireViewer(viewer), messageId),
    unpinMessage: (_, { messageId }, { viewer, services }) => services.pins.unpin(requireViewer(viewer), messageId),
  },
  Message: {
    pinnedBy: (message, _, { loaders }) => (message.pinnedBy ? loaders.user.load(message.pinnedBy) : null),
  },
  Room: {
    pinnedMessages: (room, _, { loaders }) => loaders.pinnedMessages.load(room.id),
  },
};

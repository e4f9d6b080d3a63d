import { requireViewer } from '../../auth/viewer.js';
import type { UserRow } from '../../db/schema.js';
import type { Resolvers } from '../../generated/graphql.js';

export const reactionsResolvers: Resolvers = {
  Mutation: {
    addReaction: (_, { messageId, emoji }, { viewer, services }) =>
      services.reactions.add(requireViewer(viewer), messageId, emoji),
    removeReaction: (_, { messageId, emoji }, { viewer, services }) =>
      services.reactions.remove(requireViewer(viewer), messageId, emoji),
  },
  Message: {
    reactions: (message, _, { loaders }) => loaders.reactions.load(message.id),
  },
  Reaction: {
    users: async (group, _, { loaders }) =>
      (await loaders.user.loadMany(group.userIds)).filter((u): u is UserRow => u !== null && !(u instanceof Error)),
  },
};

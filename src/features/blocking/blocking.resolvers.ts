import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';

export const blockingResolvers: Resolvers = {
  Query: {
    blockedUsers: (_, __, { viewer, services }) => services.blocking.blockedUsers(requireViewer(viewer)),
  },
  Mutation: {
    blockUser: (_, { userId }, { viewer, services }) => services.blocking.block(requireViewer(viewer), userId),
    unblockUser: (_, { userId }, { viewer, services }) => services.blocking.unblock(requireViewer(viewer), userId),
  },
  User: {
    blockedByViewer: (user, _, { loaders }) => loaders.blockedByViewer.load(user.id),
  },
};

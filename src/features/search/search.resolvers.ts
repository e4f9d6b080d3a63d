import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';

export const searchResolvers: Resolvers = {
  Query: {
    searchMessages: (_, { query, roomId, first }, { viewer, services }) =>
      services.search.search(requireViewer(viewer), query, roomId, first),
  },
};

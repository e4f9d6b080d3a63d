import { requireViewer } from '../../auth/viewer.js';
import { notFound } from '../../errors.js';
import type { Resolvers } from '../../generated/graphql.js';
import { isId } from '../../validation.js';

export const usersResolvers: Resolvers = {
  Query: {
    me: async (_, __, { viewer, loaders }) => {
      const user = await loaders.user.load(requireViewer(viewer).userId);
      if (!user) throw notFound('User');
      return user;
    },
    user: (_, { id }, { viewer, loaders }) => {
      requireViewer(viewer);
      return isId(id) ? loaders.user.load(id.toLowerCase()) : null;
    },
    users: (_, { query, first }, { viewer, services }) =>
      services.users.findByUsernamePrefix(requireViewer(viewer), query, first),
  },
  Mutation: {
    register: (_, { input }, { services, clientIp }) => services.users.register(input.username, input.password, clientIp),
    login: (_, { input }, { services, clientIp }) => services.users.login(input.username, input.password, clientIp),
    refreshToken: (_, __, { viewer, services }) => services.users.refreshToken(requireViewer(viewer)),
  },
  User: {
    online: (user, _, { loaders }) => loaders.online.load(user.id),
  },
};

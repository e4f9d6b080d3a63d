import type { Resolvers } from '../../generated/graphql.js';
import { present } from '../users/users.loaders.js';

export const mentionsResolvers: Resolvers = {
  Message: {
    mentions: async (message, _, { loaders }) => present(await loaders.user.loadMany(message.mentionIds)),
    mentionsViewer: (message, _, { viewer }) =>
      viewer !== null &&
      (message.mentionIds.includes(viewer.userId) || (message.mentionRoom && message.authorId !== viewer.userId)),
  },
  Room: {
    unreadMentionCount: (room, _, { loaders }) => loaders.unreadMentionCount.load(room.id),
  },
};

import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';

export const readStateResolvers: Resolvers = {
  Mutation: {
    markRead: (_, { roomId, seq }, { viewer, services }) => services.readState.markRead(requireViewer(viewer), roomId, seq),
  },
  Room: {
    unreadCount: async (room, _, { loaders }) => (await loaders.readState.load(room.id)).unreadCount,
    lastReadSeq: async (room, _, { loaders }) => (await loaders.readState.load(room.id)).lastReadSeq,
  },
  RoomMember: {
    lastReadSeq: (member) => member.lastReadSeq,
  },
};

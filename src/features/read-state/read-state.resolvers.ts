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
    // Members see each other's read positions; from outside a PUBLIC room every one reads 0 ("none").
    lastReadSeq: async (member, _, { viewer, loaders }) =>
      viewer?.userId === member.userId || (await loaders.viewerIsMember.load(member.roomId)) ? member.lastReadSeq : 0,
  },
};

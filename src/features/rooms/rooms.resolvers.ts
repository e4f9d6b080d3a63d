import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';

export const roomsResolvers: Resolvers = {
  Query: {
    room: (_, { id }, { viewer, services }) => services.rooms.visible(requireViewer(viewer), id),
    myRooms: (_, __, { viewer, services }) => services.rooms.myRooms(requireViewer(viewer)),
    publicRooms: (_, { query, first }, { viewer, services }) => {
      requireViewer(viewer);
      return services.rooms.publicRooms(query, first);
    },
  },
  Mutation: {
    createRoom: (_, { input }, { viewer, services }) =>
      services.rooms.create(requireViewer(viewer), input.name, input.visibility ?? 'PUBLIC'),
    joinRoom: (_, { roomId }, { viewer, services }) => services.rooms.join(requireViewer(viewer), roomId),
    leaveRoom: (_, { roomId }, { viewer, services }) => services.rooms.leave(requireViewer(viewer), roomId),
    openDirectRoom: (_, { userId }, { viewer, services }) => services.rooms.openDirect(requireViewer(viewer), userId),
    inviteToRoom: (_, { roomId, userId }, { viewer, services }) => services.rooms.invite(requireViewer(viewer), roomId, userId),
  },
  Room: {
    name: (room) => (room.kind === 'DIRECT' ? null : room.name),
    members: (room, _, { loaders }) => loaders.members.load(room.id),
    // lastMessage: the messages feature; unreadCount and lastReadSeq: read-state.
  },
  RoomMember: {
    user: async (member, _, { loaders }) => (await loaders.user.load(member.userId))!,
  },
};

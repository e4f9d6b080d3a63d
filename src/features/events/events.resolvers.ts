import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';
import type { RoomEventPayload, UserEventPayload } from './events.mappers.js';

export const eventsResolvers: Resolvers = {
  Subscription: {
    roomEvents: {
      subscribe: (_, { roomId }, { viewer, services }) => services.events.roomEvents(requireViewer(viewer), roomId),
      resolve: (event: RoomEventPayload) => event,
    },
    myEvents: {
      subscribe: (_, __, { viewer, services }) => services.events.myEvents(requireViewer(viewer)),
      resolve: (event: UserEventPayload) => event,
    },
  },
  RoomEvent: {
    __resolveType: (event) => event.__typename,
  },
  UserEvent: {
    __resolveType: (event) => event.__typename,
  },
  MemberChanged: {
    user: async (event, _, { loaders }) => (await loaders.user.load(event.userId))!,
  },
  TypingChanged: {
    user: async (event, _, { loaders }) => (await loaders.user.load(event.userId))!,
  },
  ReadReceipt: {
    user: async (event, _, { loaders }) => (await loaders.user.load(event.userId))!,
  },
  RoomAdded: {
    room: async (event, _, { loaders }) => (await loaders.room.load(event.roomId))!,
  },
};

import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';

export const notificationsResolvers: Resolvers = {
  Query: {
    vapidPublicKey: (_, __, { services }) => services.push.vapidPublicKey(),
  },
  Mutation: {
    setRoomNotifications: (_, { roomId, level, mutedUntil }, { viewer, services }) =>
      services.notifications.setRoomNotifications(requireViewer(viewer), roomId, level, mutedUntil),
    registerPushSubscription: (_, { input }, { viewer, services }) => services.push.register(requireViewer(viewer), input),
    unregisterPushSubscription: (_, { endpoint }, { viewer, services }) =>
      services.push.unregister(requireViewer(viewer), endpoint),
  },
  Room: {
    // The viewer's own choice (loaded with their role and mute, one query per operation).
    notificationLevel: async (room, _, { loaders, services }) =>
      services.notifications.level(room, await loaders.viewerMembership.load(room.id)),
    notificationsMutedUntil: async (room, _, { loaders, services }) =>
      services.notifications.mutedUntil(await loaders.viewerMembership.load(room.id)),
  },
};

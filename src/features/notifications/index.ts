import { defineFeature } from '../feature.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { notificationsResolvers } from './notifications.resolvers.js';
import { NotificationsService } from './notifications.service.js';
import { NotificationsStore } from './notifications.store.js';

/** What notifies each member of each room when they are not connected: setRoomNotifications, Room.notificationLevel. */
export const notificationsFeature = defineFeature({
  name: 'notifications',
  resolvers: notificationsResolvers,
  services: ({ db, clock }, { rooms }: { rooms: RoomsService }) => ({
    notifications: new NotificationsService({ store: new NotificationsStore(db), rooms, clock }),
  }),
});

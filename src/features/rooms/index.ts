import type { BlockingService } from '../blocking/blocking.service.js';
import { defineFeature } from '../feature.js';
import type { UsersService } from '../users/users.service.js';
import { createRoomsLoaders } from './rooms.loaders.js';
import { roomsResolvers } from './rooms.resolvers.js';
import { MAX_PUBLIC_ROOMS, RoomsService } from './rooms.service.js';
import { RoomsStore } from './rooms.store.js';

/** Rooms, memberships, direct rooms and invitations; presence announced to each room of a user. */
export const roomsFeature = defineFeature({
  name: 'rooms',
  resolvers: roomsResolvers,
  mappers: { Room: 'RoomModel', RoomMember: 'RoomMemberModel' },
  services: ({ db, realtime, clock, outbox }, { users, blocking }: { users: UsersService; blocking: BlockingService }) => ({
    rooms: new RoomsService({
      store: new RoomsStore(db, outbox),
      users,
      blocking,
      publish: realtime.publish,
      hooks: realtime.hooks,
      clock,
    }),
  }),
  loaders: ({ rooms }) => createRoomsLoaders(rooms),
  listSizes: { 'Query.publicRooms': { atMost: MAX_PUBLIC_ROOMS } },
  listen: ({ rooms }, { realtime, logger }) => {
    realtime.hooks.on('presenceChanged', ({ userId, online }) => {
      realtime.publish.track(
        rooms.announcePresence(userId, online).catch((error: Error) => logger.warn('could not announce presence', { error })),
      );
    });
  },
});

import { defineFeature } from '../feature.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { UsersService } from '../users/users.service.js';
import { ModerationLogStore } from './moderation-log.store.js';
import { PAGE_DEFAULT, PAGE_MAX } from './moderation.limits.js';
import { createModerationLoaders } from './moderation.loaders.js';
import { moderationResolvers } from './moderation.resolvers.js';
import { ModerationService } from './moderation.service.js';
import { ModerationStore } from './moderation.store.js';

/** Room roles, kicks, bans, mutes, room settings (slow mode, freeze) and the moderation log. */
export const moderationFeature = defineFeature({
  name: 'moderation',
  resolvers: moderationResolvers,
  mappers: { ModerationAction: 'ModerationActionModel', RoomBan: 'RoomBanModel', ModerationEvent: 'ModerationEventPayload' },
  services: ({ db, realtime, clock, config, outbox }, { rooms, users }: { rooms: RoomsService; users: UsersService }) => ({
    moderation: new ModerationService({
      store: new ModerationStore(db, outbox),
      log: new ModerationLogStore(db),
      rooms,
      users,
      publish: realtime.publish,
      clock,
      config: config.moderation,
    }),
  }),
  loaders: ({ moderation }, viewer) => createModerationLoaders(moderation, viewer),
  listSizes: { 'Query.moderationLog': { unasked: PAGE_DEFAULT, atMost: PAGE_MAX } },
  // The log keeps config.moderation.logRetentionDays: each instance sweeps
  // now and then, one at a time (an advisory lock), and reads never show
  // older entries meanwhile.
  listen: ({ moderation }, { realtime, logger, config }) => {
    const sweep = () =>
      void moderation.sweepLog().catch((error: Error) => logger.warn('could not sweep the moderation log', { error }));
    const timer = setInterval(sweep, config.moderation.logSweepMs);
    timer.unref();
    realtime.hooks.on('stopping', () => clearInterval(timer));
  },
});

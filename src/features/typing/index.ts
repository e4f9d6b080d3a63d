import { defineFeature } from '../feature.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { typingResolvers } from './typing.resolvers.js';
import { TypingService } from './typing.service.js';

/** Typing indicators: ephemeral, never stored. */
export const typingFeature = defineFeature({
  name: 'typing',
  resolvers: typingResolvers,
  services: ({ realtime, logger, config, clock }, { rooms }: { rooms: RoomsService }) => ({
    typing: new TypingService({
      rooms,
      publish: realtime.publish,
      state: realtime.typing,
      logger,
      lapseMs: config.typingTimeoutMs,
      clock,
    }),
  }),
  listen: ({ typing }, { realtime }) => {
    // What a user was typing through this instance ends with their last socket here.
    realtime.hooks.on('disconnected', ({ userId, last }) => {
      if (last) void typing.userDisconnected(userId);
    });
    realtime.hooks.on('stopping', () => typing.close());
  },
});

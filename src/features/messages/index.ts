import type { BlockingService } from '../blocking/blocking.service.js';
import { defineFeature } from '../feature.js';
import type { ModerationService } from '../moderation/moderation.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { createMessagesLoaders } from './messages.loaders.js';
import { messageEvents } from './messages.outbox.js';
import { messagesResolvers } from './messages.resolvers.js';
import { DEFAULT_PAGE, MAX_PAGE, MessagesService } from './messages.service.js';
import { MessagesStore } from './messages.store.js';

/** Sending, editing, deleting and history; messageAdded. */
export const messagesFeature = defineFeature({
  name: 'messages',
  resolvers: messagesResolvers,
  mappers: { Message: 'MessageModel', MessageConnection: 'MessagePage' },
  services: (
    { db, realtime, metrics, limits, clock, outbox },
    { rooms, moderation, blocking }: { rooms: RoomsService; moderation: ModerationService; blocking: BlockingService },
  ) => {
    const messages = new MessagesService({
      store: new MessagesStore(db, clock),
      rooms,
      moderation,
      blocking,
      clock,
      publish: realtime.publish,
      hub: realtime.hub,
      expensiveReads: limits.expensiveReads,
      metrics,
    });
    // Only with webhooks configured: its step in the transaction takes a send out of the batched statement.
    if (outbox.enabled) messages.extend(messageEvents(outbox));
    return { messages };
  },
  loaders: ({ messages }, viewer) => createMessagesLoaders(messages, viewer),
  // Neither first nor last: the newest page; more than MAX_PAGE is refused.
  listSizes: { 'Query.messages': { unasked: DEFAULT_PAGE, atMost: MAX_PAGE } },
});

import DataLoader from 'dataloader';
import { defineFeature } from '../feature.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { mentionsResolvers } from './mentions.resolvers.js';
import { MAX_MENTIONS, MentionsService } from './mentions.service.js';
import { MentionsStore } from './mentions.store.js';

/**
 * Mentions: explicit member ids and @room on sendMessage and editMessage
 * (which this feature extends), Mentioned events, unread mention counts.
 */
export const mentionsFeature = defineFeature({
  name: 'mentions',
  resolvers: mentionsResolvers,
  mappers: { Mentioned: 'MentionedEvent' },
  services: ({ db, realtime }, { rooms, messages }: { rooms: RoomsService; messages: MessagesService }) => {
    const mentions = new MentionsService({ store: new MentionsStore(db), rooms, publish: realtime.publish });
    messages.extend(mentions.extension);
    return { mentions };
  },
  // Room.unreadMentionCount: no cache, it moves with every message.
  loaders: ({ mentions }, viewer) => ({
    unreadMentionCount: new DataLoader<string, number>((roomIds) => mentions.unreadCounts(viewer(), roomIds), { cache: false }),
  }),
  listSizes: { 'Message.mentions': { unasked: MAX_MENTIONS, atMost: MAX_MENTIONS } },
});

import DataLoader from 'dataloader';
import type { MessageRow } from '../../db/schema.js';
import { defineFeature } from '../feature.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { pinsResolvers } from './pins.resolvers.js';
import { MAX_PINS, PinsService } from './pins.service.js';
import { PinsStore } from './pins.store.js';

/** Pinned messages: pinMessage, unpinMessage, Room.pinnedMessages (deleting a message unpins it: messages.store.ts). */
export const pinsFeature = defineFeature({
  name: 'pins',
  resolvers: pinsResolvers,
  services: ({ db, realtime }, { messages, rooms }: { messages: MessagesService; rooms: RoomsService }) => ({
    pins: new PinsService({ store: new PinsStore(db), messages, rooms, publish: realtime.publish }),
  }),
  loaders: ({ pins }, viewer) => ({
    pinnedMessages: new DataLoader<string, MessageRow[]>((roomIds) => pins.ofRooms(viewer(), roomIds), { cache: false }),
  }),
  listSizes: { 'Room.pinnedMessages': { unasked: MAX_PINS, atMost: MAX_PINS } },
});

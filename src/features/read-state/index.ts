import { defineFeature } from '../feature.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { createReadStateLoaders } from './read-state.loaders.js';
import { readStateResolvers } from './read-state.resolvers.js';
import { ReadStateService } from './read-state.service.js';
import { ReadStateStore } from './read-state.store.js';

/** Read positions, unread counts and read receipts. */
export const readStateFeature = defineFeature({
  name: 'read-state',
  resolvers: readStateResolvers,
  services: ({ db, realtime }, { rooms }: { rooms: RoomsService }) => ({
    readState: new ReadStateService({ store: new ReadStateStore(db), rooms, publish: realtime.publish }),
  }),
  loaders: ({ readState }, viewer) => createReadStateLoaders(readState, viewer),
});

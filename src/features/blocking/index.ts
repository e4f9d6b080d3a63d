import { defineFeature } from '../feature.js';
import type { UsersService } from '../users/users.service.js';
import { createBlockingLoaders } from './blocking.loaders.js';
import { blockingResolvers } from './blocking.resolvers.js';
import { BlockingService } from './blocking.service.js';
import { BlockingStore } from './blocking.store.js';

/** Users blocking users: no DIRECT room, DIRECT message or invitation between them. */
export const blockingFeature = defineFeature({
  name: 'blocking',
  resolvers: blockingResolvers,
  services: ({ db }, { users }: { users: UsersService }) => ({
    blocking: new BlockingService({ store: new BlockingStore(db), users }),
  }),
  loaders: ({ blocking }, viewer) => createBlockingLoaders(blocking, viewer),
});

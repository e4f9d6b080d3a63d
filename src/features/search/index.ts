import { defineFeature } from '../feature.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { searchResolvers } from './search.resolvers.js';
import { MAX_RESULTS, SearchService } from './search.service.js';
import { SearchStore } from './search.store.js';

/** Full-text search over the messages of the viewer's rooms. */
export const searchFeature = defineFeature({
  name: 'search',
  resolvers: searchResolvers,
  services: ({ db, config, limits }, { rooms }: { rooms: RoomsService }) => ({
    search: new SearchService({
      store: new SearchStore(db, config.database.searchTimeoutMs ?? 2000),
      rooms,
      limiter: limits.search,
      expensiveReads: limits.expensiveReads,
    }),
  }),
  listSizes: { 'Query.searchMessages': { atMost: MAX_RESULTS } },
});

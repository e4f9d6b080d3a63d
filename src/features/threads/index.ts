import { defineFeature } from '../feature.js';
import { DEFAULT_PAGE, MAX_PAGE, type MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { createThreadsLoaders } from './threads.loaders.js';
import { threadsResolvers } from './threads.resolvers.js';
import { THREADS_PAGE_DEFAULT, THREADS_PAGE_MAX, ThreadsService } from './threads.service.js';
import { ThreadsStore } from './threads.store.js';

/**
 * Threads: replies are messages of the room (sent through sendMessage,
 * which this feature extends), a summary row per thread, following, thread
 * read positions, ThreadReply events.
 */
export const threadsFeature = defineFeature({
  name: 'threads',
  resolvers: threadsResolvers,
  mappers: { Thread: 'ThreadModel', ThreadConnection: 'ThreadPage', ThreadReply: 'ThreadReplyEvent' },
  services: ({ db, realtime }, { rooms, messages }: { rooms: RoomsService; messages: MessagesService }) => {
    const threads = new ThreadsService({ store: new ThreadsStore(db), rooms, messages, publish: realtime.publish });
    messages.extend(threads.extension);
    return { threads };
  },
  loaders: ({ threads }, viewer) => createThreadsLoaders(threads, viewer),
  listSizes: {
    // Paged as messages(): neither first nor last gives the newest 50; more than 200 is refused.
    'Query.threadMessages': { unasked: DEFAULT_PAGE, atMost: MAX_PAGE },
    'Query.threads': { unasked: THREADS_PAGE_DEFAULT, atMost: THREADS_PAGE_MAX },
    'Query.myThreads': { unasked: THREADS_PAGE_DEFAULT, atMost: THREADS_PAGE_MAX },
    'Thread.participants': { unasked: 10, atMost: 10 },
  },
});

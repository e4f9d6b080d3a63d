import { defineFeature } from '../feature.js';
import type { MessagesService } from '../messages/messages.service.js';
import { createReactionsLoaders } from './reactions.loaders.js';
import { reactionsResolvers } from './reactions.resolvers.js';
import { ReactionsService } from './reactions.service.js';
import { ReactionsStore } from './reactions.store.js';

/** Emoji reactions on messages. */
export const reactionsFeature = defineFeature({
  name: 'reactions',
  resolvers: reactionsResolvers,
  mappers: { Reaction: 'ReactionGroup' },
  services: ({ db, realtime }, { messages }: { messages: MessagesService }) => ({
    reactions: new ReactionsService({ store: new ReactionsStore(db), messages, publish: realtime.publish }),
  }),
  loaders: ({ reactions }) => createReactionsLoaders(reactions),
  // A message's reactions (one per emoji) and their users come with the message: counted once per message, as the
  // page of messages they are in already multiplies.
  listSizes: { 'Message.reactions': { unasked: 1 }, 'Reaction.users': { unasked: 1 } },
});

import type { TypePolicies } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { relayStylePagination } from '@apollo/client/utilities';
import type { ChatClient } from './chat-client.js';

/**
 * Apollo's GraphQLWsLink on the kit's socket, so `messageAdded` resumes
 * without gaps. Split it from an HttpLink for queries and mutations (or use
 * it alone: the server runs them over the socket too).
 */
export function chatWsLink(chat: ChatClient): GraphQLWsLink {
  return new GraphQLWsLink(chat.ws);
}

/**
 * `Query.messages` as one Relay connection per room and view (keyed by
 * roomId and view: the timeline and the whole room are two lists), and
 * `Query.threadMessages` as one per thread, so pages fetched with
 * before/after merge into one list; messages are normalised by id.
 */
export const chatTypePolicies: TypePolicies = {
  Query: {
    fields: {
      messages: relayStylePagination(['roomId', 'view']),
      threadMessages: relayStylePagination(['threadRootId']),
    },
  },
};

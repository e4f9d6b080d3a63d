import { subscriptionExchange, type Exchange } from '@urql/core';
import type { ChatClient } from './chat-client.js';

/**
 * urql's subscriptionExchange forwarding to the kit's socket, so
 * `messageAdded` resumes without gaps. Put it after fetchExchange:
 * `exchanges: [cacheExchange, fetchExchange, chatSubscriptionExchange(chat)]`.
 */
export function chatSubscriptionExchange(chat: ChatClient): Exchange {
  return subscriptionExchange({
    forwardSubscription: (request) => ({
      subscribe: (sink) => ({
        unsubscribe: chat.ws.subscribe({ ...request, query: request.query ?? '' }, sink),
      }),
    }),
  });
}

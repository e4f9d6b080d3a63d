/**
 * The chat client kit: typed operations, a graphql-ws client that resumes
 * `messageAdded` without gaps, and token helpers. Browser and Node alike
 * (Node 20: pass `webSocketImpl` from `ws`). The urql and Apollo helpers are
 * their own entry points (./urql.js, ./apollo.js), so an app loads only its own.
 */
export { createChatClient, ChatRequestError, type ChatClient, type ChatClientOptions } from './chat-client.js';
export { messageAddedField, resumable, type Resumable } from './resume.js';
export {
  refreshDelay,
  startTokenRefresher,
  tokenExpiry,
  type TokenRefresher,
  type TokenRefresherOptions,
  type TokenSource,
} from './token.js';
export * from './generated/graphql.js';

/**
 * The chat client kit: typed operations, sign-in and requests over HTTP, a
 * graphql-ws client that resumes `messageAdded` without gaps and reports its
 * connection state, and token helpers. Browser and Node alike (Node 20: pass
 * `webSocketImpl` from `ws`). The urql and Apollo helpers are their own entry
 * points (`@chat/client/urql`, `@chat/client/apollo`), so an app loads only its own.
 */
export { createChatClient, type ChatClient, type ChatClientOptions } from './chat-client.js';
export type { ConnectionState, ConnectionStateListener, DisconnectReason } from './connection-state.js';
export { documentIdOf } from './documents.js';
export { ChatNetworkError, ChatRequestError, type ChatErrorCode, type ChatErrorReason } from './errors.js';
export { request, type RequestArgs, type RequestOptions } from './http.js';
export { login, refresh, register, type AuthOptions, type AuthResult } from './auth.js';
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

import type { GraphQLFormattedError } from 'graphql';

/**
 * `extensions.code` of the errors this server sends: the contract's codes,
 * yoga's for documents refused before any resolver runs, the trusted
 * documents' (an unknown documentId or APQ hash; a document refused under
 * TRUSTED_DOCUMENTS=only), and the masked one.
 */
export type ChatErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'BAD_REQUEST'
  | 'REQUEST_ENTITY_TOO_LARGE'
  | 'PERSISTED_QUERY_NOT_FOUND'
  | 'PERSISTED_QUERY_NOT_IN_LIST'
  | 'INTERNAL_SERVER_ERROR';

/**
 * `extensions.reason`, where the contract has a client tell refusals of one
 * code apart: why a request is UNAUTHENTICATED (sign in again on
 * TOKEN_EXPIRED), and the moderation refusals. Other strings may appear as
 * the API grows.
 */
export type ChatErrorReason =
  | 'TOKEN_MISSING'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'BANNED'
  | 'MUTED'
  | 'ROOM_FROZEN'
  | 'SLOW_MODE'
  | 'BLOCKED'
  | (string & {});

/**
 * The server refused an operation: its GraphQL errors, each with
 * `extensions.code`. Over HTTP (`request`, `login`, …) and over the socket
 * (`chat.request`) alike.
 */
export class ChatRequestError extends Error {
  constructor(
    readonly errors: readonly GraphQLFormattedError[],
    /** The HTTP status the errors came with; undefined over the socket. */
    readonly status?: number,
  ) {
    super(errors.map((e) => e.message).join('; ') || 'The operation failed');
    this.name = 'ChatRequestError';
  }

  /** The first error's `extensions.code`, e.g. UNAUTHENTICATED. */
  get code(): ChatErrorCode | undefined {
    return this.errors[0]?.extensions?.code as ChatErrorCode | undefined;
  }

  /** The first error's `extensions.reason`, e.g. TOKEN_EXPIRED; undefined when it has none. */
  get reason(): ChatErrorReason | undefined {
    const reason = this.errors[0]?.extensions?.reason;
    return typeof reason === 'string' ? reason : undefined;
  }

  /** Whole seconds to wait before trying again (RATE_LIMITED, MUTED); undefined otherwise. */
  get retryAfter(): number | undefined {
    const seconds = this.errors[0]?.extensions?.retryAfter;
    return typeof seconds === 'number' ? seconds : undefined;
  }
}

/**
 * The request got no GraphQL answer: the server could not be reached, or
 * something in between (a proxy, a restarting server) answered without a
 * GraphQL body. Worth repeating; nothing says whether a mutation ran, so
 * repeat sends with the same `clientId`.
 */
export class ChatNetworkError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when a response came at all. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChatNetworkError';
  }
}

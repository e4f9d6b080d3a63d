import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { isUnavailableError } from './db/errors.js';
import type { Logger } from './logger.js';

/** The contract's error codes (extensions.code). */
export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'RATE_LIMITED' | 'SERVICE_UNAVAILABLE';

/** An error meant for the client: yoga passes GraphQLErrors through unmasked. */
export class ChatError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'ChatError';
  }
}

/** UNAUTHENTICATED's extensions.reason (the contract's header): why the request has no viewer. */
export type UnauthenticatedReason = 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED';

export const unauthenticated = (message = 'Sign in first: missing, invalid or expired token', reason?: UnauthenticatedReason) =>
  new ChatError('UNAUTHENTICATED', message, reason ? { reason } : {});
/**
 * FORBIDDEN's extensions.reason (the contract's moderation section), where a
 * client must tell refusals apart; MUTED comes with retryAfter.
 */
export type ForbiddenReason = 'BANNED' | 'MUTED' | 'ROOM_FROZEN' | 'BLOCKED' | 'MENTION_NOT_ALLOWED';

export const forbidden = (message = 'Not allowed', reason?: ForbiddenReason, extensions: Record<string, unknown> = {}) =>
  new ChatError('FORBIDDEN', message, reason ? { reason, ...extensions } : extensions);
export const notFound = (what: string) => new ChatError('NOT_FOUND', `${what} not found`);
/** BAD_USER_INPUT; `reason` where a client must tell refusals apart (PIN_LIMIT). */
/** Why an input was refused, where the contract names it (extensions.reason). */
export type BadInputReason = 'PIN_LIMIT' | 'UPLOAD_MISSING' | 'UPLOAD_MISMATCH' | 'UPLOAD_USED';
export const badInput = (message: string, field?: string, reason?: BadInputReason) =>
  new ChatError('BAD_USER_INPUT', message, { ...(field ? { field } : {}), ...(reason ? { reason } : {}) });
/**
 * Too many requests: `extensions.retryAfter` is the whole seconds (at least 1)
 * before one more may succeed; `reason` SLOW_MODE for a room's slow mode.
 */
export const rateLimited = (retryAfter: number, message = 'Too many requests; try again later', reason?: 'SLOW_MODE') =>
  new ChatError('RATE_LIMITED', message, { retryAfter: Math.max(1, Math.ceil(retryAfter)), ...(reason ? { reason } : {}) });
/** `retryAfter` (whole seconds) when the server knows when to come back: it is busy, not cut off. */
export const serviceUnavailable = (message = 'A backing service cannot be reached right now; try again', retryAfter?: number) =>
  new ChatError('SERVICE_UNAVAILABLE', message, retryAfter === undefined ? {} : { retryAfter });

/**
 * The masking rule, for yoga's maskedErrors on both transports: ChatErrors
 * (and GraphQL's own parse and validation errors) pass; a variable value
 * that does not fit its type is BAD_USER_INPUT (variableError); an unreachable
 * database or Redis becomes SERVICE_UNAVAILABLE; anything else is masked as
 * INTERNAL_SERVER_ERROR and logged, without internals in the response.
 */
export function createErrorMasker(logger: Logger) {
  return (error: unknown, message: string): Error => {
    if (isUnavailableError(error)) return serviceUnavailable();
    const refusedVariable = variableError(error);
    if (refusedVariable) return refusedVariable;
    const masked = yogaMaskError(error, message, false);
    if (masked !== error) logger.error('unexpected error in an operation', { error: originalOf(error) });
    return masked;
  };
}

function originalOf(error: unknown): unknown {
  return (error as { originalError?: unknown })?.originalError ?? error;
}

/** The same error with `extensions.code` set (graphql-ws's parse and validation failures carry yoga's codes). */
export function withCode(error: unknown, code: string): GraphQLError {
  const e = error instanceof GraphQLError ? error : new GraphQLError(String((error as Error)?.message ?? error));
  return new GraphQLError(e.message, {
    nodes: e.nodes,
    source: e.source,
    positions: e.positions,
    extensions: { ...e.extensions, code },
  });
}

/**
 * Extensions that are the server's business only: yoga puts a failed body's
 * text in `originalError` (a login's password with it), marks masked errors
 * `unexpected`, and carries HTTP statuses in `http`.
 */
const PRIVATE_EXTENSIONS = ['originalError', 'unexpected', 'http'] as const;

/**
 * An error in its JSON form as it leaves the server, on every transport
 * (WebSocket, multipart, SSE and plain HTTP): without the private extensions.
 * `keepHttp` leaves `http` for yoga, which reads it for the response's status
 * and drops it itself when it serialises.
 */
export function publicError(error: GraphQLError | GraphQLFormattedError, { keepHttp = false } = {}): GraphQLFormattedError {
  const { extensions: all, ...json } = error instanceof GraphQLError ? error.toJSON() : error;
  if (!all) return json;
  const extensions: Record<string, unknown> = { ...all };
  for (const key of PRIVATE_EXTENSIONS) if (key !== 'http' || !keepHttp) delete extensions[key];
  return Object.keys(extensions).length > 0 ? { ...json, extensions } : json;
}

/** Whether an error carries an extension that publicError would drop (other than `http`). */
export function hasPrivateExtensions(error: { readonly extensions?: Record<string, unknown> }): boolean {
  return PRIVATE_EXTENSIONS.some((key) => key !== 'http' && error.extensions !== undefined && key in error.extensions);
}

const VARIABLE = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" /;

/**
 * graphql-js refuses a variable value that does not fit its type (not
 * provided, null, of the wrong shape) with no code, and its message quotes
 * the value it refused: for an input object, the whole object (a login's
 * password with it). This is that error as BAD_USER_INPUT, naming the
 * variable, the path in it and graphql-js's reason, but not the value.
 */
function variableError(error: unknown): GraphQLError | null {
  if (!(error instanceof GraphQLError) || error.path !== undefined || error.extensions.code !== undefined) return null;
  const variable = VARIABLE.exec(error.message);
  if (!variable) return null;
  let message = error.message;
  const reason = error.originalError instanceof GraphQLError ? error.originalError.message : null;
  // `Variable "$v" got invalid value <the value>[ at "v.path"]; <reason>`: names in the path cannot hold a quote.
  if (reason !== null && message.startsWith(`${variable[0]}got invalid value `) && message.endsWith(`; ${reason}`)) {
    const head = message.slice(0, -(reason.length + 2));
    const at = new RegExp(` at "(${variable[1]}(?:\\.[_A-Za-z][_0-9A-Za-z]*|\\[\\d+\\])+)"$`).exec(head);
    message = `${variable[0]}got an invalid value${at ? ` at "${at[1]}"` : ''}; ${reason}`;
  }
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
  });
}

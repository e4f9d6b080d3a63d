import { GraphQLError } from 'graphql';

/** The contract's error codes (extensions.code). */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE';

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

export const unauthenticated = (message = 'Sign in first: missing, invalid or expired token') =>
  new ChatError('UNAUTHENTICATED', message);
export const forbidden = (message = 'Not allowed') => new ChatError('FORBIDDEN', message);
export const notFound = (what: string) => new ChatError('NOT_FOUND', `${what} not found`);
export const badInput = (message: string, field?: string) =>
  new ChatError('BAD_USER_INPUT', message, field ? { field } : {});
export const serviceUnavailable = (message = 'A backing service cannot be reached right now; try again') =>
  new ChatError('SERVICE_UNAVAILABLE', message);

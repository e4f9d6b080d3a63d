import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { ChatRequestError } from '../../client/index.js';
import { restrictionOf, restrictionText } from './moderation.js';
import type { Failure } from './outbox.js';

/** The request did not get a GraphQL answer: no connection, a proxy's error page, a restart. Worth repeating. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

/** One GraphQL operation over HTTP POST to this page's own /graphql. */
export async function httpRequest<R, V>(document: TypedDocumentNode<R, V>, variables: V, token: string | null): Promise<R> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query: print(document), variables }),
    });
  } catch (error) {
    throw new NetworkError('The server cannot be reached', { cause: error });
  }
  let body: { data?: R | null; errors?: ConstructorParameters<typeof ChatRequestError>[0] };
  try {
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new NetworkError(`The server answered ${response.status} without a GraphQL result`, { cause: error });
  }
  if (body.errors?.length) throw new ChatRequestError(body.errors);
  if (!body.data) throw new NetworkError(`The server answered ${response.status} without data`);
  return body.data;
}

/** Codes an attempt can succeed after, unchanged: the service is back, the limit's window passed. */
const PASSING = new Set(['SERVICE_UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR']);

/** How the outbox treats a failed send: repeat what passes, stop at a refusal. */
export function classify(error: unknown): Failure {
  if (error instanceof NetworkError) return { retry: true, reason: 'offline, retrying' };
  if (error instanceof ChatRequestError) {
    const code = error.code ?? 'UNKNOWN';
    const restriction = restrictionOf(error);
    if (restriction?.reason === 'SLOW_MODE') {
      // The room's slow mode: the message goes out by itself once the wait is over.
      return { retry: true, reason: 'slow mode, waiting', afterMs: Math.max(0, (restriction.until ?? Date.now()) - Date.now()) };
    }
    if (restriction) return { retry: false, reason: NOT_SENT[restriction.reason] };
    if (PASSING.has(code)) {
      const retryAfter = Number(error.errors[0]?.extensions?.retryAfter);
      return {
        retry: true,
        reason: code === 'RATE_LIMITED' ? 'sending too fast, waiting' : 'server busy, retrying',
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { afterMs: retryAfter * 1000 } : {}),
      };
    }
    return { retry: false, reason: error.message };
  }
  return { retry: false, reason: error instanceof Error ? error.message : String(error) };
}

/** Why a send was refused, beside the message (the notice above the box says more, and for how long). */
const NOT_SENT = {
  MUTED: 'Not sent: you are muted in this room',
  ROOM_FROZEN: 'Not sent: the room is frozen',
  BANNED: 'Not sent: you are banned from this room',
  BLOCKED: 'Not sent: one of you blocked the other',
} as const;

/** A sentence from the server's own message: capitalised, ending with a full stop. */
function sentence(message: string): string {
  const text = message.trim();
  if (!text) return 'That was refused.';
  const capital = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** "30 seconds", "2 minutes": how long to wait, from RATE_LIMITED's retryAfter. */
export function waitText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return 'a moment';
  if (seconds < 90) return `${Math.ceil(seconds)} second${Math.ceil(seconds) === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

const retryAfterOf = (error: ChatRequestError) => Number(error.errors[0]?.extensions?.retryAfter);

/**
 * What went wrong, in plain words, from the contract's error codes. Refusals
 * that carry a rule (FORBIDDEN, BAD_USER_INPUT) keep the server's sentence,
 * which names the rule ("Only the owner can invite to a private room").
 */
export function describe(error: unknown): string {
  if (error instanceof NetworkError) return 'The server cannot be reached. Check your connection; it will go on once it is back.';
  if (error instanceof ChatRequestError) {
    const restriction = restrictionOf(error);
    if (restriction) return restrictionText(restriction);
    switch (error.code) {
      case 'RATE_LIMITED':
        return `That was too many at once. Try again in ${waitText(retryAfterOf(error))}.`;
      case 'SERVICE_UNAVAILABLE':
        return 'The server is busy or restarting. Try again in a moment.';
      case 'UNAUTHENTICATED':
        return 'Your session has ended. Sign in again.';
      case 'NOT_FOUND':
        return 'That is no longer there: it may have been deleted.';
      case 'FORBIDDEN':
      case 'BAD_USER_INPUT':
        return sentence(error.errors[0]?.message ?? '');
      default:
        return 'Something went wrong on the server. Try again.';
    }
  }
  return 'Something went wrong. Try again.';
}

/**
 * Why a file could not be uploaded: as describe() says it, except that the
 * limit on uploads not yet sent keeps the server's sentence, which says what
 * to do (send or wait for them).
 */
export function describeUploadError(error: unknown): string {
  if (error instanceof ChatRequestError && error.code === 'RATE_LIMITED') return sentence(error.errors[0]?.message ?? '');
  return describe(error);
}

/** What the sign-in form says about a failed sign-in or sign-up: what was wrong and what to do. */
export function describeAuthError(mode: 'login' | 'register', error: unknown): string {
  if (error instanceof ChatRequestError) {
    const first = error.errors[0];
    const field = first?.extensions?.field;
    switch (error.code) {
      case 'UNAUTHENTICATED':
        return mode === 'login'
          ? 'Wrong username or password. New here? Choose “Create account” instead.'
          : 'The server refused the sign-up. Try again.';
      case 'BAD_USER_INPUT':
        if (field === 'username' && /taken/i.test(first?.message ?? '')) {
          return 'That username is taken. Choose another, or sign in if it is yours.';
        }
        if (field === 'username') return 'A username is 3 to 32 letters, digits, dots, dashes or underscores.';
        if (field === 'password') return 'A password is 8 to 256 characters.';
        return sentence(first?.message ?? '');
      case 'RATE_LIMITED':
        return mode === 'login'
          ? `Too many sign-in attempts for now. Try again in ${waitText(retryAfterOf(error))}.`
          : `Too many accounts were created from here. Try again in ${waitText(retryAfterOf(error))}.`;
      case 'FORBIDDEN':
        return 'Accounts here come from your organisation’s sign-in, not from this form.';
    }
  }
  return describe(error);
}

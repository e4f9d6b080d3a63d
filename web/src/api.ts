import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { ChatRequestError } from '../../client/index.js';
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

/** A sign-in's error for the form: the server's message for a refusal, a plain sentence otherwise. */
export function describe(error: unknown): string {
  if (error instanceof ChatRequestError) return error.message;
  if (error instanceof NetworkError) return 'The server cannot be reached. Try again in a moment.';
  return 'Something went wrong.';
}

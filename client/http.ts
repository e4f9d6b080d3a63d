import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { documentIdOf } from './documents.js';
import { ChatNetworkError, ChatRequestError } from './errors.js';
import { currentToken, type TokenSource } from './token.js';

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <token>`; a function is called for each request. None: signed out. */
  token?: TokenSource;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Aborts the request (it then rejects with the signal's reason). */
  signal?: AbortSignal;
  /** @default globalThis.fetch (browsers, Node 18+) */
  fetch?: typeof fetch;
  /**
   * Sends the document's trusted-document id (`documentId`) instead of its
   * text when it has one, as every document of the kit does: what a server
   * with `TRUSTED_DOCUMENTS=only` requires. A document without one is sent as text.
   * @default false
   */
  persisted?: boolean;
}

/** A document's variables, then the options; the variables may be left out when none is required. */
export type RequestArgs<V> =
  Record<string, never> extends V ? [variables?: V, options?: RequestOptions] : [variables: V, options?: RequestOptions];

interface GraphQLResponseBody<R> {
  data?: R | null;
  errors?: GraphQLFormattedError[];
}

/**
 * Runs one query or mutation over HTTP (POST to `url`, e.g.
 * `https://chat.example.com/graphql`) and resolves with its data, typed by
 * the document (the kit's own, or any TypedDocumentNode of your codegen).
 *
 * Rejects with `ChatRequestError` when the server refused it (its `code` is
 * the contract's `extensions.code`, with `reason` and `retryAfter` where the
 * contract gives them), and with `ChatNetworkError` when no GraphQL answer
 * came (unreachable, or a proxy's error page).
 */
export async function request<R, V>(url: string, document: TypedDocumentNode<R, V>, ...args: RequestArgs<V>): Promise<R> {
  const [variables, options = {}] = args;
  const token = await currentToken(options.token);
  const documentId = options.persisted ? documentIdOf(document) : undefined;
  const named = documentId ? { documentId } : { query: print(document) };
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // graphql-response+json: a document refused before it runs comes back as 400 with its errors, not as 200.
        accept: 'application/graphql-response+json, application/json',
        ...options.headers,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ ...named, variables: variables ?? {} }),
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ChatNetworkError(`${url} cannot be reached`, undefined, { cause: error });
  }
  let body: GraphQLResponseBody<R>;
  try {
    body = (await response.json()) as GraphQLResponseBody<R>;
  } catch (error) {
    throw new ChatNetworkError(`${url} answered ${response.status} without a GraphQL result`, response.status, { cause: error });
  }
  if (body.errors?.length) throw new ChatRequestError(body.errors, response.status);
  if (!body.data) throw new ChatNetworkError(`${url} answered ${response.status} without data`, response.status);
  return body.data;
}

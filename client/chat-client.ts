import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import {
  createClient,
  type Client,
  type ClientOptions,
  type FormattedExecutionResult,
  type Sink,
  type SubscribePayload,
} from 'graphql-ws';
import { MyRoomsDocument, RefreshTokenDocument, type MyRoomsQuery } from './generated/graphql.js';
import { resumable } from './resume.js';
import { currentToken, startTokenRefresher, type TokenRefresher, type TokenRefresherOptions, type TokenSource } from './token.js';

export interface ChatClientOptions {
  /** ws(s)://host/graphql, or a function giving it (called on every connect, so it may change between retries). */
  url: string | (() => string | Promise<string>);
  /** The JWT sent in connection_init; a function is called on every connect, so a refreshed token is used. */
  token?: TokenSource;
  /** A WebSocket constructor where there is no global one (Node 20: `ws`'s default export). @default globalThis.WebSocket */
  webSocketImpl?: unknown;
  /**
   * Called once a socket is acknowledged again after one was lost. Messages
   * of `messageAdded` subscriptions resume by themselves; `roomEvents` and
   * `myEvents` have no resume, so what they would have told in between
   * (edits, deletions, reactions, read receipts, members, rooms joined or
   * left, unread counts) is what to refetch: `refreshMyRooms()`, and the
   * open room's `room` query.
   */
  onReconnected?(): void;
  /** How often to retry a lost socket before subscriptions fail. @default Infinity */
  retryAttempts?: number;
  /** Waits before retry number `retries` (0 first). @default exponential from 0.5 s, capped at 10 s, with jitter */
  retryWait?: (retries: number) => Promise<void>;
  /** Anything else graphql-ws's createClient takes (its `on` listeners included). */
  clientOptions?: Partial<Omit<ClientOptions, 'url' | 'connectionParams' | 'webSocketImpl' | 'retryAttempts' | 'retryWait'>>;
}

export interface ChatClient {
  /**
   * A graphql-ws Client whose `subscribe` keeps `messageAdded(after:)` at the
   * newest cursor received and drops seqs already seen: what the urql and
   * Apollo helpers forward to.
   */
  readonly ws: Client;
  /** Runs one operation over the socket and resolves with its single result. */
  request<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R>;
  /** Subscribes with a typed document; returns the unsubscribe function. */
  subscribe<R, V extends Record<string, unknown>>(
    document: TypedDocumentNode<R, V>,
    variables: V,
    sink: Partial<Sink<FormattedExecutionResult<R, unknown>>>,
  ): () => void;
  /** The rooms with their unread counts and last messages, as after a reconnect. */
  refreshMyRooms(): Promise<MyRoomsQuery['myRooms']>;
  /** Runs the refreshToken mutation with the current token and resolves with the new one. */
  refreshToken(): Promise<string>;
  /**
   * Runs refreshToken before the token's exp (read from `getToken()`), handing
   * each new one to `onToken`; the app stores it where its `token` function
   * reads it. The open socket stays signed in with the old token until the
   * server closes it at that token's exp (4403); the retry connects with the
   * new one and every subscription resumes.
   */
  keepTokenFresh(options: Omit<TokenRefresherOptions, 'refresh'>): TokenRefresher;
  dispose(): Promise<void>;
}

/** A request's GraphQL errors (each with `extensions.code`, as the contract lists them). */
export class ChatRequestError extends Error {
  constructor(readonly errors: NonNullable<FormattedExecutionResult['errors']>) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ChatRequestError';
  }
  /** The first error's code, e.g. UNAUTHENTICATED. */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code as string | undefined;
  }
}

/** graphql-ws's iterate, over the resuming subscribe. */
function iterate<T>(
  subscribe: (request: SubscribePayload, sink: Sink<T>) => () => void,
  request: SubscribePayload,
): AsyncIterableIterator<T> {
  const pending: T[] = [];
  let done = false;
  let failure: { error: unknown } | null = null;
  let wake = () => {};
  const dispose = subscribe(request, {
    next: (value) => {
      pending.push(value);
      wake();
    },
    error: (error) => {
      failure = { error };
      done = true;
      wake();
    },
    complete: () => {
      done = true;
      wake();
    },
  });
  const iterator: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      while (!pending.length && !done) await new Promise<void>((resolve) => (wake = resolve));
      if (pending.length) return { value: pending.shift()!, done: false };
      if (failure) throw failure.error;
      return { value: undefined, done: true };
    },
    async return() {
      done = true;
      dispose();
      return { value: undefined, done: true };
    },
  };
  return iterator;
}

async function defaultRetryWait(retries: number): Promise<void> {
  const ms = Math.min(10_000, 500 * 2 ** retries) * (0.5 + Math.random() / 2);
  await new Promise((resolve) => setTimeout(resolve, ms));
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  let everConnected = false;
  const userOn = options.clientOptions?.on;
  const raw = createClient({
    ...options.clientOptions,
    url: options.url,
    webSocketImpl: options.webSocketImpl,
    retryAttempts: options.retryAttempts ?? Infinity,
    retryWait: options.retryWait ?? defaultRetryWait,
    // graphql-ws retries only on close events by default, but a socket that
    // fails before its upgrade (a server restarting, a proxy with no upstream)
    // reports an error event first: retry on those too. Close codes that
    // graphql-ws deems fatal (4400, 4401, 4500, ...) still end the subscriptions.
    shouldRetry: options.clientOptions?.shouldRetry ?? (() => true),
    connectionParams: async () => {
      const token = await currentToken(options.token);
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      ...userOn,
      connected: (...args) => {
        userOn?.connected?.(...args);
        const [, , wasRetry] = args;
        if (everConnected && wasRetry) options.onReconnected?.();
        everConnected = true;
      },
    },
  });

  function subscribe<D = Record<string, unknown>, E = unknown>(
    request: SubscribePayload,
    sink: Sink<FormattedExecutionResult<D, E>>,
  ): () => void {
    const stream = resumable(request);
    return raw.subscribe<D, E>(stream.payload, {
      next: (result) => {
        if (stream.accept(result)) sink.next(result);
      },
      error: (error) => sink.error(error),
      complete: () => sink.complete(),
    });
  }

  const ws: Client = {
    on: raw.on.bind(raw),
    dispose: () => raw.dispose(),
    terminate: () => raw.terminate(),
    subscribe,
    iterate: <D = Record<string, unknown>, E = unknown>(request: SubscribePayload) =>
      iterate<FormattedExecutionResult<D, E>>((r, sink) => subscribe<D, E>(r, sink), request),
  };

  function request<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let result: FormattedExecutionResult<R, unknown> | null = null;
      raw.subscribe<R>(
        { query: print(document), variables },
        {
          next: (value) => (result = value),
          // An operation refused before it ran (validation) arrives as graphql-ws's error message: a list of errors.
          error: (error) =>
            reject(
              Array.isArray(error)
                ? new ChatRequestError(error as GraphQLFormattedError[])
                : error instanceof Error
                  ? error
                  : new Error('The socket failed', { cause: error }), // a close event once retries are spent
            ),
          complete: () => {
            if (result?.errors?.length) reject(new ChatRequestError(result.errors));
            else if (result?.data) resolve(result.data);
            else reject(new Error('The operation completed without a result'));
          },
        },
      );
    });
  }

  const refreshToken = async () => (await request(RefreshTokenDocument)).refreshToken.token;

  return {
    ws,
    request,
    subscribe: (document, variables, sink) =>
      subscribe({ query: print(document), variables }, { next: () => {}, error: () => {}, complete: () => {}, ...sink }),
    refreshMyRooms: async () => (await request(MyRoomsDocument)).myRooms,
    refreshToken,
    keepTokenFresh: (refresherOptions) => startTokenRefresher({ ...refresherOptions, refresh: refreshToken }),
    dispose: async () => raw.dispose(),
  };
}

import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import {
  createClient,
  type Client,
  type ClientOptions,
  type FormattedExecutionResult,
  type Sink,
  type SubscribePayload,
} from 'graphql-ws';
import { ConnectionStateTracker, type ConnectionState, type ConnectionStateListener } from './connection-state.js';
import { documentIdOf } from './documents.js';
import { ChatNetworkError, ChatRequestError } from './errors.js';
import { MyRoomsDocument, RefreshTokenDocument, type MyRoomsQuery } from './generated/graphql.js';
import { resumable } from './resume.js';
import { currentToken, startTokenRefresher, type TokenRefresher, type TokenRefresherOptions, type TokenSource } from './token.js';

export interface ChatClientOptions {
  /**
   * The server's `/graphql`: ws(s)://host/graphql, or http(s)://… (the same
   * URL as for HTTP requests, turned into ws(s)://), or a function giving it
   * (called on every connect, so it may change between retries).
   */
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
  /**
   * `request` and `subscribe` send a document's trusted-document id
   * (`documentId`, with the empty `query` graphql-ws requires) instead of its
   * text when it has one, as every document of the kit does: what a server
   * with `TRUSTED_DOCUMENTS=only` requires. `ws.subscribe` (the urql and
   * Apollo helpers) sends what it is given.
   * @default false
   */
  persisted?: boolean;
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
  /** Where the socket is now: idle, connecting, live, reconnecting (with the reason and attempt) or closed. */
  readonly state: ConnectionState;
  /** Calls `listener` with each new state (not the current one); returns the function that stops it. */
  onStateChange(listener: ConnectionStateListener): () => void;
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
  /** Closes the socket and ends every subscription; the state becomes closed with reason null. */
  dispose(): Promise<void>;
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

function describeFailure(error: unknown): string {
  const { code, reason, message } = (error ?? {}) as { code?: unknown; reason?: unknown; message?: unknown };
  if (typeof code === 'number') return `${code}${typeof reason === 'string' && reason ? ` ${reason}` : ''}`;
  return typeof message === 'string' ? message : String(error);
}

/** http(s):// becomes ws(s)://, so one URL serves HTTP requests and the socket. */
function socketUrl(url: string): string {
  return url.replace(/^http(s?):\/\//i, 'ws$1://');
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  let everConnected = false;
  const userOn = options.clientOptions?.on;
  const tracker = new ConnectionStateTracker();
  const userShouldRetry = options.clientOptions?.shouldRetry ?? (() => true);
  const url = options.url;
  const raw = createClient({
    ...options.clientOptions,
    url: typeof url === 'function' ? async () => socketUrl(await url()) : socketUrl(url),
    webSocketImpl: options.webSocketImpl,
    retryAttempts: options.retryAttempts ?? Infinity,
    retryWait: options.retryWait ?? defaultRetryWait,
    // graphql-ws retries only on close events by default, but a socket that
    // fails before its upgrade (a server restarting, a proxy with no upstream)
    // reports an error event first: retry on those too. Close codes that
    // graphql-ws deems fatal (4400, 4401, 4500, ...) still end the subscriptions.
    // graphql-ws asks this only once it would retry: the moment to say so.
    shouldRetry: (errOrCloseEvent) => {
      const retry = userShouldRetry(errOrCloseEvent);
      if (retry) tracker.retrying();
      return retry;
    },
    connectionParams: async () => {
      const token = await currentToken(options.token);
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      ...userOn,
      connecting: (isRetry) => {
        tracker.connecting(isRetry);
        userOn?.connecting?.(isRetry);
      },
      connected: (...args) => {
        tracker.connected();
        userOn?.connected?.(...args);
        const [, , wasRetry] = args;
        if (everConnected && wasRetry) options.onReconnected?.();
        everConnected = true;
      },
      error: (error) => {
        tracker.error(error);
        userOn?.error?.(error);
      },
      closed: (event) => {
        tracker.closed(event);
        userOn?.closed?.(event);
      },
    },
  });

  /**
   * graphql-ws's subscribe, counted for the connection state: an error that
   * is not a list of GraphQL errors means graphql-ws gave up on the socket.
   */
  function tracked<D, E>(payload: SubscribePayload, sink: Sink<FormattedExecutionResult<D, E>>): () => void {
    tracker.operationStarted();
    let running = true;
    const ended = () => {
      if (running) tracker.operationEnded();
      running = false;
    };
    const stop = raw.subscribe<D, E>(payload, {
      next: (result) => sink.next(result),
      error: (error) => {
        if (!Array.isArray(error)) tracker.gaveUp(error);
        ended();
        sink.error(error);
      },
      complete: () => {
        ended();
        sink.complete();
      },
    });
    return () => {
      ended();
      stop();
    };
  }

  function subscribe<D = Record<string, unknown>, E = unknown>(
    request: SubscribePayload,
    sink: Sink<FormattedExecutionResult<D, E>>,
    /** The document's text, when `request` names it by id. */
    text?: string,
  ): () => void {
    const stream = resumable(request, text);
    return tracked<D, E>(stream.payload, {
      next: (result) => {
        if (stream.accept(result)) sink.next(result);
      },
      error: (error) => sink.error(error),
      complete: () => sink.complete(),
    });
  }

  async function dispose(): Promise<void> {
    tracker.dispose();
    // graphql-ws's dispose awaits a connection attempt in progress and rejects
    // with its failure (a refused token's 4403, a refused connection): being
    // disposed, the client has nothing left to report.
    try {
      await raw.dispose();
    } catch {
      // nothing to report
    }
  }

  const ws: Client = {
    on: raw.on.bind(raw),
    dispose: () => dispose(),
    terminate: () => raw.terminate(),
    subscribe,
    iterate: <D = Record<string, unknown>, E = unknown>(request: SubscribePayload) =>
      iterate<FormattedExecutionResult<D, E>>((r, sink) => subscribe<D, E>(r, sink), request),
  };

  /** What goes out for a document: its text, or with `persisted` its id (and an empty query). */
  function payloadOf(document: DocumentNode, variables: Record<string, unknown> | undefined): SubscribePayload {
    const documentId = options.persisted ? documentIdOf(document) : undefined;
    const payload: SubscribePayload = { query: documentId ? '' : print(document), variables };
    return documentId ? ({ ...payload, documentId } as SubscribePayload) : payload;
  }

  function request<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let result: FormattedExecutionResult<R, unknown> | null = null;
      tracked<R, unknown>(payloadOf(document, variables), {
        next: (value) => (result = value),
        // An operation refused before it ran (validation) arrives as graphql-ws's error message: a list of errors.
        error: (error) =>
          reject(
            Array.isArray(error)
              ? new ChatRequestError(error as GraphQLFormattedError[])
              : // a close event (or an Error) once graphql-ws stopped retrying
                new ChatNetworkError(`The socket failed: ${describeFailure(error)}`, undefined, { cause: error }),
          ),
        complete: () => {
          if (result?.errors?.length) reject(new ChatRequestError(result.errors));
          else if (result?.data) resolve(result.data);
          else reject(new Error('The operation completed without a result'));
        },
      });
    });
  }

  const refreshToken = async () => (await request(RefreshTokenDocument)).refreshToken.token;

  return {
    ws,
    request,
    get state() {
      return tracker.state;
    },
    onStateChange: (listener) => tracker.onChange(listener),
    subscribe: (document, variables, sink) =>
      subscribe(
        payloadOf(document, variables),
        { next: () => {}, error: () => {}, complete: () => {}, ...sink },
        options.persisted ? print(document) : undefined,
      ),
    refreshMyRooms: async () => (await request(MyRoomsDocument)).myRooms,
    refreshToken,
    keepTokenFresh: (refresherOptions) => startTokenRefresher({ ...refresherOptions, refresh: refreshToken }),
    dispose,
  };
}

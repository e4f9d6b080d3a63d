import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { afterEach } from 'vitest';
import type { App } from './server.js';

export interface GqlError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
  path?: Array<string | number>;
}
export interface GqlResult<T = any> {
  data?: T | null;
  errors?: GqlError[];
}

/** POST /graphql, as any HTTP client would. */
export async function gql<T = any>(app: App, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>> {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlResult<T>;
}

/** The data of a result that must have no errors. */
export async function gqlOk<T = any>(app: App, query: string, variables?: Record<string, unknown>, token?: string): Promise<T> {
  const result = await gql<T>(app, query, variables, token);
  if (result.errors?.length) throw new Error(`Unexpected GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

export const codes = (result: { errors?: readonly GqlError[] | readonly unknown[] }) =>
  ((result.errors ?? []) as GqlError[]).map((e) => e.extensions?.code);

export function wsUrl(app: App) {
  return `${app.url.replace(/^http/, 'ws')}/graphql`;
}

export interface WsOptions {
  /** The raw connection_init payload; default: the token as `authorization: Bearer`. */
  connectionParams?: Record<string, unknown>;
  onClose?: (code: number, reason: string) => void;
}

/** A real graphql-ws client that does not retry, so close codes are seen as they are. */
export function wsClient(app: App, token: string | null, options: WsOptions = {}): Client {
  return createClient({
    url: wsUrl(app),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    shouldRetry: () => false,
    lazy: true,
    connectionParams: options.connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
    on: {
      closed: (event) => {
        const e = event as { code: number; reason: string };
        options.onClose?.(e.code, String(e.reason));
      },
    },
  });
}

/** wsClient for a describe block: every client it makes is disposed after each test. */
export function trackedClients(): typeof wsClient {
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  return (app, token, options) => {
    const client = wsClient(app, token, options);
    clients.push(client);
    return client;
  };
}

/** Resolves once the client's connection is acknowledged. */
export function connected(client: Client, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket was not acknowledged')), timeoutMs);
    const off = client.on('connected', () => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/**
 * Opens a socket of `connect` with this connection_init payload (a subscription
 * makes the lazy client connect) and resolves with its close code, or null if
 * it is still open after timeoutMs.
 */
export function closeCodeOf(connect: typeof wsClient, app: App, connectionParams: Record<string, unknown>, timeoutMs = 5_000): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    const client = connect(app, null, {
      connectionParams,
      onClose: (code) => {
        clearTimeout(timer);
        resolve(code);
      },
    });
    new Subscription(client, 'subscription($r: ID!) { messageAdded(roomId: $r) { id body } }', { r: '00000000-0000-4000-8000-000000000000' });
  });
}

/**
 * A subscription collecting what it receives. `next(n)` waits for the n-th
 * value; `settled()` for complete or error.
 */
export class Subscription<T = any> {
  readonly values: T[] = [];
  readonly results: FormattedExecutionResult<T, unknown>[] = [];
  error: unknown = null;
  completed = false;
  private readonly waiters: Array<() => void> = [];
  private readonly unsubscribe: () => void;

  constructor(client: Client, query: string, variables?: Record<string, unknown>) {
    this.unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          this.results.push(result);
          if (result.data) this.values.push(result.data);
          this.wake();
        },
        error: (error) => {
          this.error = error;
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves once `predicate` holds; rejects after timeoutMs with what was seen. */
  async until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Timed out waiting for ${what}; got ${this.values.length} values, error=${JSON.stringify(this.error)}, completed=${this.completed}, results=${JSON.stringify(this.results.slice(-3))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  next(count: number, timeoutMs?: number) {
    return this.until(() => this.values.length >= count, timeoutMs, `${count} values`);
  }

  settled(timeoutMs?: number) {
    return this.until(() => this.completed || this.error !== null, timeoutMs, 'complete or error');
  }

  dispose() {
    this.unsubscribe();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it holds; fails after timeoutMs. For state that no
 * event announces (what a query answers, what Redis holds); everything a
 * subscription delivers is waited for with Subscription.until instead.
 */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(everyMs); // the poll interval
  }
}

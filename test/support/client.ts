import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
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
export async function gql<T = any>(
  app: App,
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
): Promise<GqlResult<T>> {
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
    await Promise.all(clients.splice(0).map(async (c) => c.dispose()));
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
export function closeCodeOf(
  connect: typeof wsClient,
  app: App,
  connectionParams: Record<string, unknown>,
  timeoutMs = 5_000,
): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    const client = connect(app, null, {
      connectionParams,
      onClose: (code) => {
        clearTimeout(timer);
        resolve(code);
      },
    });
    new Subscription(client, 'subscription($r: ID!) { messageAdded(roomId: $r) { id body } }', {
      r: '00000000-0000-4000-8000-000000000000',
    });
  });
}

/** Disposes the client and resolves once its socket has closed: the closing handshake is over. */
export function closeSocket(client: Client, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket did not close')), timeoutMs);
    const off = client.on('closed', () => {
      clearTimeout(timer);
      off();
      resolve();
    });
    void client.dispose();
  });
}

/**
 * A harmless event a test can cause on a subscription's stream, to learn that
 * the subscription is live (graphql-ws gives no signal when the server has
 * registered it) or that everything published before it has arrived. The
 * builders are in probes.ts.
 */
export interface Probe<T = any> {
  /** Causes one probe event, through the server as any client would. */
  fire(): Promise<void>;
  /**
   * Causes one probe event that can be told from every other, and resolves
   * with the test that recognises it: what flush() waits for.
   */
  mark(): Promise<(value: T) => boolean>;
  /** Whether a value is a probe event. Probe events are never in `values`. */
  is(value: T): boolean;
}

/** How often live() fires its probe while none has arrived. */
const PROBE_INTERVAL_MS = 100;

/**
 * A subscription collecting what it receives. `next(n)` waits for the n-th
 * value; `settled()` for complete or error. With a probe, `live()` waits
 * until the server delivers on it and `flush()` until the stream has caught
 * up; probe events stay out of `values`.
 */
export class Subscription<T = any> {
  /** Every value received, probe events included, in order. */
  readonly received: T[] = [];
  /** Every result received, errors and probe events included. */
  readonly results: FormattedExecutionResult<T, unknown>[] = [];
  error: unknown = null;
  completed = false;
  private readonly waiters: Array<() => void> = [];
  private readonly unsubscribe: () => void;

  constructor(
    client: Client,
    query: string,
    variables?: Record<string, unknown>,
    private readonly probe?: Probe<T>,
  ) {
    this.unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          this.results.push(result);
          if (result.data) this.received.push(result.data);
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

  /** What the subscription received, in order, without probe events. */
  get values(): T[] {
    const probe = this.probe;
    return probe ? this.received.filter((value) => !probe.is(value)) : [...this.received];
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves on the next thing received, or after ms. */
  private change(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private describe() {
    return `got ${this.values.length} values (${this.received.length - this.values.length} probe events), error=${JSON.stringify(this.error)}, completed=${this.completed}, results=${JSON.stringify(this.results.slice(-3))}`;
  }

  /** Resolves once `predicate` holds; rejects after timeoutMs with what was seen. */
  async until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}; ${this.describe()}`);
      await this.change(Math.min(left, 200));
    }
  }

  next(count: number, timeoutMs?: number) {
    return this.until(() => this.values.length >= count, timeoutMs, `${count} values`);
  }

  settled(timeoutMs?: number) {
    return this.until(() => this.completed || this.error !== null, timeoutMs, 'complete or error');
  }

  /**
   * Fires the probe every PROBE_INTERVAL_MS until a probe event arrives: from
   * then on the server delivers to this subscription. Resolves with how many
   * probes were fired (for messageAdded, how many seqs the probes took).
   */
  async live(timeoutMs = 10_000): Promise<number> {
    const probe = this.requireProbe('live');
    const seen = () => this.received.some((value) => probe.is(value));
    const deadline = Date.now() + timeoutMs;
    let fired = 0;
    while (!seen()) {
      if (this.completed || this.error !== null) throw new Error(`The subscription ended before it was live; ${this.describe()}`);
      if (Date.now() >= deadline)
        throw new Error(`No probe event arrived after ${fired} probes in ${timeoutMs} ms; ${this.describe()}`);
      await probe.fire();
      fired += 1;
      const next = Date.now() + PROBE_INTERVAL_MS;
      while (!seen() && Date.now() < next) await this.change(next - Date.now());
    }
    return fired;
  }

  /**
   * Fires one marked probe and waits for it. On an ordered stream, whatever
   * was published before it has arrived by then: what a test checks after
   * flush() is what the subscription got, not what was still on its way.
   */
  async flush(timeoutMs = 10_000): Promise<void> {
    const probe = this.requireProbe('flush');
    const mine = await probe.mark();
    await this.until(() => this.received.some(mine), timeoutMs, 'the flush probe');
  }

  private requireProbe(what: string): Probe<T> {
    if (!this.probe) throw new Error(`${what}() needs a subscription made with a probe`);
    return this.probe;
  }

  dispose() {
    this.unsubscribe();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it answers something truthy, and resolves with that;
 * fails after timeoutMs. For state that no event announces (what a query
 * answers, what Redis holds, whether a service is back); everything a
 * subscription delivers is waited for with Subscription.until instead.
 */
export async function eventually<T>(
  check: () => Promise<T>,
  what: string,
  timeoutMs = 5_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer) return answer;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(everyMs); // the poll interval
  }
}

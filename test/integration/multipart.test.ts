import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { afterEach, expect, it } from 'vitest';
import type { TestRoom, TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const MESSAGE_ADDED = gql`
  subscription ($roomId: ID!, $after: String) {
    messageAdded(roomId: $roomId, after: $after) {
      seq
      body
      cursor
    }
  }
`;
const MESSAGE_ADDED_TEXT = 'subscription($r: ID!) { messageAdded(roomId: $r) { seq } }';
const MULTIPART_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0';
/** What Apollo Client's HttpLink sends for a subscription. */
const MULTIPART_ACCEPT = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0, application/json';

interface Event {
  data?: { messageAdded: { seq: number; body: string; cursor: string } } | null;
  error?: unknown;
}

/** A subscription through Apollo Client over HttpLink only (no WebSocket link), collecting what it emits. */
class ApolloStream {
  readonly events: Event[] = [];
  failure: unknown = null;
  completed = false;
  /** The content type of the response the subscription got. */
  contentType: string | null = null;
  private readonly subscription: { unsubscribe(): void };
  private waiters: Array<() => void> = [];

  constructor(app: App, token: string | null, variables: { roomId: string; after?: string }, query = MESSAGE_ADDED) {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const client = new ApolloClient({
      link: new HttpLink({ uri: `${app.url}/graphql`, fetch: this.fetch, headers }),
      cache: new InMemoryCache(),
    });
    this.subscription = client.subscribe<NonNullable<Event['data']>>({ query, variables }).subscribe({
      next: (event) => this.settle(() => this.events.push(event)),
      error: (error: unknown) => this.settle(() => (this.failure = error)),
      complete: () => this.settle(() => (this.completed = true)),
    });
    streams.push(this);
  }

  /** Node's own fetch, noting what came back. */
  private readonly fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await globalThis.fetch(input, init);
    this.settle(() => (this.contentType = response.headers.get('content-type')));
    return response;
  };

  get seqs(): number[] {
    return this.events.flatMap((e) => (e.data?.messageAdded ? [e.data.messageAdded.seq] : []));
  }

  /** Resolves once `done` holds, re-checked on every event; fails after timeoutMs. */
  until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(this.events)}`)),
        timeoutMs,
      );
      const check = () => {
        if (!done()) return void this.waiters.push(check);
        clearTimeout(timer);
        resolve();
      };
      check();
    });
  }

  /** The codes of the GraphQL errors it ended with or emitted. */
  errorCodes(): string[] {
    const errors = this.events.map((e) => e.error).concat(this.failure ? [this.failure] : []);
    return errors.flatMap((error) => {
      const list = (error as { errors?: Array<{ extensions?: { code?: string } }> } | null)?.errors ?? [];
      return list.map((e) => e.extensions?.code ?? '');
    });
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  private settle(change: () => void): void {
    change();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

const streams: ApolloStream[] = [];
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
});

/** Reads a raw multipart response part by part (the JSON of each), as the protocol frames them. */
async function* parts(response: Response): AsyncGenerator<unknown> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended without its closing delimiter: ${JSON.stringify(buffered)}`);
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    // A part is complete once the next delimiter arrived.
    while ((end = buffered.indexOf('\r\n--graphql', 1)) >= 0) {
      const part = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const body = part.slice(part.indexOf('\r\n\r\n') + 4);
      expect(part).toMatch(/^--graphql\r\ncontent-type: application\/json; charset=utf-8\r\n\r\n/);
      yield JSON.parse(body);
    }
    if (buffered === '--graphql--\r\n') return void (await reader.cancel());
  }
}

const rawSubscribe = (app: App, token: string, roomId: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: MULTIPART_ACCEPT, authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query: MESSAGE_ADDED_TEXT, variables: { r: roomId } }),
    signal,
  });

forEachBackend('Subscriptions over Apollo multipart HTTP', (s) => {
  const sendFrom = async (alice: TestUser, room: TestRoom, count: number) => s.seed.sendMany(alice, room, count);

  it('delivers messages sent on instance A to an HttpLink subscriber on instance B, in seq order', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    // Subscribing after a first message makes the start race-free: whatever comes before live is read back.
    const [first] = await sendFrom(alice, room, 1);
    const stream = new ApolloStream(s.b, bob.token, { roomId: room.id, after: first!.cursor });
    const sent = await sendFrom(alice, room, 5);
    await stream.until(() => stream.seqs.length >= 5, 'five messages');
    expect(stream.seqs).toEqual(sent.map((m) => m.seq));
    expect(stream.events.map((e) => e.data?.messageAdded.body)).toEqual(sent.map((m) => m.body));
    expect(stream.failure).toBeNull();
    expect(stream.contentType).toBe(MULTIPART_TYPE);
  });

  it('resumes after a cursor: only the later messages, then live ones', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const sent = await sendFrom(alice, room, 4);
    const stream = new ApolloStream(s.b, bob.token, { roomId: room.id, after: sent[1]!.cursor });
    await stream.until(() => stream.seqs.length >= 2, 'the messages after the cursor');
    const [live] = await sendFrom(alice, room, 1);
    await stream.until(() => stream.seqs.length >= 3, 'the live message');
    expect(stream.seqs).toEqual([sent[2]!.seq, sent[3]!.seq, live!.seq]);
  });

  it('refuses a non-member with FORBIDDEN and no token with UNAUTHENTICATED, as GraphQL errors', async () => {
    const { room } = await s.seed.roomWithTwoMembers();
    const stranger = await s.seed.user('stranger');
    const forbidden = new ApolloStream(s.b, stranger.token, { roomId: room.id });
    const anonymous = new ApolloStream(s.b, null, { roomId: room.id });
    for (const stream of [forbidden, anonymous]) {
      await stream.until(() => stream.errorCodes().length > 0 || stream.completed, 'the refusal');
    }
    expect(forbidden.errorCodes()).toEqual(['FORBIDDEN']);
    expect(anonymous.errorCodes()).toEqual(['UNAUTHENTICATED']);
    expect(forbidden.seqs.concat(anonymous.seqs)).toEqual([]);
    // Answered in the protocol (a payload part with the errors), not as a plain JSON response.
    expect([forbidden.contentType, anonymous.contentType]).toEqual([MULTIPART_TYPE, MULTIPART_TYPE]);
  });

  it('refuses a document that does not validate with GRAPHQL_VALIDATION_FAILED, as a GraphQL error', async () => {
    const { bob, room } = await s.seed.roomWithTwoMembers();
    const invalid = gql`
      subscription ($roomId: ID!) {
        messageAdded(roomId: $roomId) {
          noSuchField
        }
      }
    `;
    const stream = new ApolloStream(s.b, bob.token, { roomId: room.id }, invalid);
    await stream.until(() => stream.errorCodes().length > 0 || stream.completed, 'the refusal');
    expect(stream.errorCodes()).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('speaks the protocol: its content type, heartbeats while idle, events as payload parts', async () => {
    const app = await s.backend.startApp({ multipartHeartbeatMs: 150 });
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const controller = new AbortController();
    const response = await rawSubscribe(app, bob.token, room.id, {}, controller.signal);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(MULTIPART_TYPE);
    const seen: unknown[] = [];
    for await (const part of parts(response)) {
      seen.push(part);
      // The first `{}` flushes the headers; a second one can only come from the idle timer.
      if (seen.length === 2) {
        expect(seen).toEqual([{}, {}]);
        await s.seed.send(alice, room, 'after heartbeats');
      }
      if ((part as { payload?: unknown }).payload) break;
    }
    controller.abort();
    expect(seen.at(-1)).toEqual({ payload: { data: { messageAdded: { seq: expect.any(Number) } } } });
    await app.stop();
  });

  it('refuses a multipart subscription from a disallowed origin with 403', async () => {
    const app = await s.backend.startApp({ corsOrigins: ['https://chat.example.com'] });
    const { bob, room } = await s.seed.roomWithTwoMembers();
    const refused = await rawSubscribe(app, bob.token, room.id, { origin: 'https://evil.example.com' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const controller = new AbortController();
    const allowed = await rawSubscribe(app, bob.token, room.id, { origin: 'https://chat.example.com' }, controller.signal);
    expect([allowed.status, allowed.headers.get('content-type')]).toEqual([200, MULTIPART_TYPE]);
    controller.abort();
    await app.stop();
  });

  it('ends its streams with SERVICE_UNAVAILABLE when the server stops, so Apollo Client sees an error to resubscribe on', async () => {
    const app = await s.backend.startApp();
    const { bob, room } = await s.seed.roomWithTwoMembers();
    const raw = await rawSubscribe(app, bob.token, room.id);
    const reading = (async () => {
      const seen: unknown[] = [];
      for await (const part of parts(raw)) seen.push(part);
      return seen;
    })();
    const stream = new ApolloStream(app, bob.token, { roomId: room.id });
    await stream.until(() => stream.contentType !== null, 'the response');
    await app.stop();
    // parts() returns only at the closing delimiter `--graphql--`.
    const seen = await reading;
    expect(seen.filter((part) => JSON.stringify(part) !== '{}')).toEqual([
      { payload: null, errors: [{ message: expect.any(String), extensions: { code: 'SERVICE_UNAVAILABLE' } }] },
    ]);
    await stream.until(() => stream.failure !== null || stream.errorCodes().length > 0, 'the error');
    expect(stream.errorCodes()).toEqual(['SERVICE_UNAVAILABLE']);
  });
});

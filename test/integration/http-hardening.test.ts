import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, sleep, Subscription, trackedClients } from '../support/client.js';
import { capturedLogger } from '../support/logs.js';
import { moved, scrape } from '../support/metrics.js';
import { messageProbe } from '../support/probes.js';
import { upgradeStatus } from '../support/raw-socket.js';
import { createApp, type App, type Config } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const MY_EVENTS = 'subscription { myEvents { __typename ... on NewMessage { message { body } } } }';
const MESSAGE_ADDED = 'subscription($r: ID!) { messageAdded(roomId: $r) { id body } }';

/** A raw TCP connection to the app, with what it received and when it closed. */
class RawConnection {
  received = '';
  readonly closed: Promise<number>;
  private readonly opened = Date.now();
  private readonly socket: Socket;

  constructor(app: App) {
    this.socket = connect(app.port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => (this.received += chunk.toString('latin1')));
    this.socket.on('error', () => {});
    // Resolves with how long after opening the connection closed.
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve(Date.now() - this.opened)));
  }

  ready(): Promise<void> {
    return new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  /** Writes one character of `text` every everyMs until it is all sent or the connection closed. */
  async trickle(text: string, everyMs: number): Promise<void> {
    for (const char of text) {
      if (this.socket.destroyed) return;
      this.write(char);
      await sleep(everyMs);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** An HTTP request with headers fetch() may not set (Host); its status, headers and body. */
function rawHttp(app: App, init: { path?: string; method?: string; headers: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: app.port, path: init.path ?? '/graphql', method: init.method ?? 'POST', headers: init.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        // A stream is not read to its end: its first bytes tell what it is.
        res.on('data', (chunk: string) => {
          body += chunk;
          if (res.headers['content-type']?.startsWith('text/event-stream')) res.destroy();
        });
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        res.on('end', done).on('close', done);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Reads a streaming response until `predicate` holds for what arrived; rejects if it ends first. */
async function readUntil(response: Response, predicate: (text: string) => boolean): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended first: ${text}`);
    text += decoder.decode(value, { stream: true });
    if (predicate(text)) return text;
  }
}

forEachBackend('HTTP server hardening', (s) => {
  const tracked = trackedClients();

  describe('aborted request bodies (finding 8)', () => {
    const { logger, lines } = capturedLogger('debug');
    let app: App;
    afterAll(() => app?.stop());

    it('an aborted body is logged once at debug and not counted as an error', async () => {
      app = createApp({ ...s.backend.config, logLevel: 'debug' }, { logger });
      await app.start();
      const before = await scrape(app);
      const heads = [
        'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"query":"{ __typ',
        'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{"query":\r\n',
      ];
      for (const [i, head] of heads.entries()) {
        const connection = new RawConnection(app);
        await connection.ready();
        connection.write(head);
        // The server is reading the body when the client goes: it has logged the request's start.
        await eventually(
          async () => lines.filter((l) => l.msg === 'Parsing request to extract GraphQL parameters').length > i,
          'the server to start reading the body',
        );
        connection.destroy();
        await eventually(async () => lines.filter((l) => l.msg === 'Request aborted').length > i, 'the abort to be logged');
      }
      const after = await scrape(app);
      const aborted = lines.filter((l) => l.msg === 'Request aborted');
      expect(aborted).toHaveLength(2);
      for (const line of aborted) expect(line.level).toBe('debug');
      expect(lines.filter((l) => l.level !== 'debug' && l.level !== 'info')).toEqual([]);
      const errorSamples = [...after.keys()].filter((key) => key.startsWith('chat_graphql_errors_total'));
      for (const key of errorSamples) expect({ key, moved: moved(before, after, key) }).toEqual({ key, moved: 0 });
    });
  });

  describe('ALLOWED_HOSTS (finding 8)', () => {
    it('ALLOWED_HOSTS refuses a rebinding Host on HTTP and on the WebSocket upgrade', async () => {
      const open = await s.backend.startApp();
      const listed = await s.backend.startApp({ allowedHosts: [{ hostname: '127.0.0.1', port: null }] });
      const alice = await s.seed.user('alice');
      // A page on rebind.example whose name now resolves to the server: its Host and Origin agree.
      const rebound = (app: App) => ({ host: `rebind.example:${app.port}`, origin: `http://rebind.example:${app.port}` });
      const query = JSON.stringify({ query: '{ me { id } }' });
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` };

      // Without ALLOWED_HOSTS the same-origin rule believes the Host: the page is answered and may read it.
      const believed = await rawHttp(open, { headers: { ...headers, ...rebound(open) }, body: query });
      expect(believed.status).toBe(200);
      expect(believed.headers['access-control-allow-origin']).toBe(rebound(open).origin);
      expect(await upgradeStatus(open, rebound(open))).toBe(101);

      // With it, the rebound name is refused with 421 before anything runs: a query, a stream, the upgrade.
      const refused = await rawHttp(listed, { headers: { ...headers, ...rebound(listed) }, body: query });
      expect(refused.status).toBe(421);
      expect(JSON.parse(refused.body)).toEqual({
        errors: [{ message: expect.any(String), extensions: { code: 'FORBIDDEN' } }],
      });
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      const stream = await rawHttp(listed, {
        headers: { ...headers, ...rebound(listed), accept: 'text/event-stream' },
        body: JSON.stringify({ query: MY_EVENTS }),
      });
      expect(stream.status).toBe(421);
      const preflight = await rawHttp(listed, {
        method: 'OPTIONS',
        headers: { ...rebound(listed), 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(421);
      expect(await upgradeStatus(listed, rebound(listed))).toBe(421);
      expect(await upgradeStatus(listed, { host: `rebind.example:${listed.port}` })).toBe(421);

      // The listed host (on any port, as listed without one) is answered as before, and /healthz by any Host.
      const ours = await rawHttp(listed, { headers: { ...headers, host: `127.0.0.1:${listed.port}` }, body: query });
      expect(ours.status).toBe(200);
      expect(await upgradeStatus(listed, { origin: listed.url })).toBe(101);
      const health = await rawHttp(listed, { method: 'GET', path: '/healthz', headers: rebound(listed) });
      expect(health.status).toBe(200);
      const noPort = await rawHttp(listed, { headers: { ...headers, host: '127.0.0.1' }, body: query });
      expect(noPort.status).toBe(200);
    });
  });

  describe('timeouts and connections (finding 8)', () => {
    const limits = (overrides: Partial<Config['httpServer']>): Partial<Config> => ({
      httpServer: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 10_000, ...overrides },
    });

    it('a request whose headers never finish is closed after HTTP_HEADERS_TIMEOUT_MS', async () => {
      const app = await s.backend.startApp(limits({ headersTimeoutMs: 500, requestTimeoutMs: 5000 }));
      const silent = new RawConnection(app);
      const partial = new RawConnection(app);
      const trickling = new RawConnection(app);
      await Promise.all([silent.ready(), partial.ready(), trickling.ready()]);
      partial.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      // A byte every 50 ms keeps the connection busy but does not extend the deadline.
      void trickling.trickle(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}`, 50);
      for (const connection of [silent, partial, trickling]) {
        const closedAfter = await connection.closed;
        // Node checks its deadlines every quarter of the headers timeout; the upper bound only guards against a hang.
        expect(closedAfter).toBeGreaterThanOrEqual(450);
        expect(closedAfter).toBeLessThan(4000);
      }
      expect(partial.received).toMatch(/^HTTP\/1\.1 408 /);
      expect(trickling.received).toMatch(/^HTTP\/1\.1 408 /);
    });

    it('a body that trickles in is cut after HTTP_REQUEST_TIMEOUT_MS, and counted as no error', async () => {
      const app = await s.backend.startApp(limits({ headersTimeoutMs: 300, requestTimeoutMs: 800 }));
      const before = await scrape(app);
      const connection = new RawConnection(app);
      await connection.ready();
      connection.write(
        'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n',
      );
      void connection.trickle(`{"query":"{ __typename }", "x": "${'a'.repeat(400)}"}`, 50);
      const closedAfter = await connection.closed;
      expect(closedAfter).toBeGreaterThanOrEqual(750);
      expect(closedAfter).toBeLessThan(5000);
      expect(connection.received).toMatch(/^HTTP\/1\.1 408 /);
      const after = await scrape(app);
      const errorSamples = [...after.keys()].filter((key) => key.startsWith('chat_graphql_errors_total'));
      for (const key of errorSamples) expect({ key, moved: moved(before, after, key) }).toEqual({ key, moved: 0 });
    });

    it('SSE, multipart and WebSocket subscriptions outlive HTTP_REQUEST_TIMEOUT_MS: it times receiving a request only', async () => {
      const app = await s.backend.startApp(limits({ headersTimeoutMs: 200, requestTimeoutMs: 400 }));
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${bob.token}` };
      const body = JSON.stringify({ query: MY_EVENTS });
      const abort = new AbortController();
      try {
        const sse = await fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { ...headers, accept: 'text/event-stream' },
          body,
          signal: abort.signal,
        });
        const multipart = await fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { ...headers, accept: 'multipart/mixed;subscriptionSpec=1.0' },
          body,
          signal: abort.signal,
        });
        expect([sse.status, multipart.status]).toEqual([200, 200]);
        const ws = new Subscription(tracked(app, bob.token), MESSAGE_ADDED, { r: room.id }, messageProbe(app, alice, room));
        await ws.live();
        // Time itself is under test: several request timeouts pass with every stream idle.
        await sleep(1500);
        const sent = await s.seed.send(alice, room, 'after the request timeout');
        await ws.until(() => ws.values.some((v) => v.messageAdded.id === sent.id), 10_000, 'the message over WebSocket');
        await readUntil(sse, (text) => text.includes('after the request timeout'));
        await readUntil(multipart, (text) => text.includes('after the request timeout'));
      } finally {
        abort.abort();
      }
    });

    it('a connection past MAX_CONNECTIONS is dropped as it arrives, and a closed one frees its place', async () => {
      const app = await s.backend.startApp(limits({ maxConnections: 3 }));
      const held = [new RawConnection(app), new RawConnection(app), new RawConnection(app)];
      await Promise.all(held.map((c) => c.ready()));
      // Each held connection is known to the server once it has answered a request on it.
      for (const connection of held) {
        connection.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        await eventually(async () => connection.received.includes('"status":"ok"'), 'an answer on a held connection');
      }
      const extra = new RawConnection(app);
      extra.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await extra.closed;
      expect(extra.received).toBe('');
      held[0]!.destroy();
      // The server frees the place when it sees the close, which no client event tells: try until one is answered.
      const answered = () =>
        fetch(`${app.url}/healthz`).then(
          (response) => response.status === 200,
          () => false,
        );
      await eventually(answered, 'a freed place');
      for (const connection of held) connection.destroy();
    });
  });
});

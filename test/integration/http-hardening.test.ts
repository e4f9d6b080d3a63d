import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, sleep } from '../support/client.js';
import { capturedLogger } from '../support/logs.js';
import { moved, scrape } from '../support/metrics.js';
import { createApp, type App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

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

forEachBackend('HTTP server hardening', (s) => {
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
});

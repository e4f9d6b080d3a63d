import { GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import WebSocket from 'ws';
import { wsUrl } from './client.js';
import type { App } from './server.js';

/**
 * A WebSocket that speaks graphql-transport-ws by hand: for what the
 * graphql-ws client never sends (oversized frames, silence instead of
 * connection_init) and for headers it cannot set (Origin).
 */
export class RawSocket {
  private readonly inbox: unknown[] = [];
  private readonly waiting: Array<(message: unknown) => void> = [];
  /** Resolves with the close code and reason, whoever closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const message: unknown = JSON.parse(data.toString('utf8'));
      const waiter = this.waiting.shift();
      if (waiter) waiter(message);
      else this.inbox.push(message);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    ws.on('error', () => {}); // the close event tells the story
  }

  /** Opens a socket; rejects with the HTTP status when the upgrade is refused. */
  static open(app: App, headers: Record<string, string> = {}): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl(app), GRAPHQL_TRANSPORT_WS_PROTOCOL, { headers });
      const socket = new RawSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_request, response) => {
        reject(new UpgradeRefused(response.statusCode ?? 0));
        response.resume();
        ws.terminate();
      });
    });
  }

  /** Opens a socket and completes the handshake with this token. */
  static async acknowledged(app: App, token: string): Promise<RawSocket> {
    const socket = await RawSocket.open(app);
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    const ack = await socket.next();
    if ((ack as { type?: string }).type !== 'connection_ack')
      throw new Error(`expected connection_ack, got ${JSON.stringify(ack)}`);
    return socket;
  }

  send(frame: string | object): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next message the server sends; rejects if the socket closes first. */
  next(): Promise<any> {
    if (this.inbox.length > 0) return Promise.resolve(this.inbox.shift());
    return Promise.race([
      new Promise((resolve) => this.waiting.push(resolve)),
      this.closed.then(({ code }) => Promise.reject(new Error(`the socket closed (${code}) before a message arrived`))),
    ]);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws.terminate();
  }
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`the upgrade was answered ${status}`);
  }
}

/** 101 when the upgrade with these headers succeeds, else the HTTP status it was refused with. */
export async function upgradeStatus(app: App, headers: Record<string, string>): Promise<number> {
  try {
    const socket = await RawSocket.open(app, headers);
    socket.close();
    return 101;
  } catch (error) {
    if (error instanceof UpgradeRefused) return error.status;
    throw error;
  }
}

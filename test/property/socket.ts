import { GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import WebSocket from 'ws';
import { wsUrl } from '../support/client.js';
import type { App } from '../support/server.js';

/**
 * A raw graphql-transport-ws socket: frames go out exactly as given (text or
 * binary, valid or not) and every frame that comes back is kept, so a
 * property sees what a careless or hostile client would.
 */
export class RawSocket {
  /** Every text frame received, in order. */
  readonly received: string[] = [];
  /** The close code and reason, once the socket has closed. */
  closedWith: { code: number; reason: string } | null = null;
  private readonly waiters: Array<() => void> = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      this.received.push(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closedWith = { code, reason: reason.toString('utf8') };
      this.wake();
    });
    // A write after the server closed fails here; the close event tells the rest.
    socket.on('error', () => this.wake());
  }

  static open(app: App): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(wsUrl(app), GRAPHQL_TRANSPORT_WS_PROTOCOL);
      const raw = new RawSocket(socket);
      socket.once('open', () => resolve(raw));
      socket.once('error', reject);
    });
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends a frame if the socket is still open; resolves once it is written. */
  send(data: string | Buffer, binary = false): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => this.socket.send(data, { binary }, () => resolve()));
  }

  /** Messages received so far, parsed (frames that are not JSON are skipped). */
  messages(): Array<{ type?: string; id?: unknown; payload?: any }> {
    return this.received.flatMap((raw) => {
      try {
        return [JSON.parse(raw) as { type?: string; id?: unknown; payload?: any }];
      } catch {
        return [];
      }
    });
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves once `predicate` holds or the socket has closed; rejects after timeoutMs (the server hung). */
  async until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate() && !this.closedWith) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`No answer within ${timeoutMs} ms: waited for ${what}; received ${this.received.length} frames`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** connection_init with this payload; resolves with true once acknowledged, false if the server closed instead. */
  async init(payload: unknown): Promise<boolean> {
    await this.send(JSON.stringify(payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload }));
    await this.until(() => this.messages().some((m) => m.type === 'connection_ack'), 'connection_ack');
    return this.messages().some((m) => m.type === 'connection_ack');
  }

  /**
   * A ping with a payload of its own, answered once every frame sent before
   * it has been read: frames are handled in order, and a ping is answered at
   * once (what the earlier frames started may still be running).
   */
  async roundTrip(): Promise<void> {
    const mark = `mark-${Math.random().toString(36).slice(2)}`;
    await this.send(JSON.stringify({ type: 'ping', payload: { mark } }));
    await this.until(() => this.messages().some((m) => m.type === 'pong' && m.payload?.mark === mark), 'the pong of a ping');
  }

  /** Closes with 1000 (if still open) and resolves once the closing handshake is over. */
  async close(): Promise<void> {
    if (!this.closedWith) {
      if (this.open) this.socket.close(1000);
      else this.socket.terminate();
      await this.until(() => false, 'the close', 5_000).catch(() => this.socket.terminate());
    }
  }
}

import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
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
        reject(new UpgradeRefused(response.statusCode ?? 0, response.headers));
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
  constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders = {},
  ) {
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

/** What a pipelined socket received: every message, and the close frame's code and reason (null: none came). */
export interface PipelinedExchange {
  messages: Array<{ type?: string; id?: string; payload?: any }>;
  closed: { code: number; reason: string } | null;
}

/**
 * Opens a WebSocket over plain TCP and, once upgraded, writes every message
 * as a client frame in ONE write, so they reach the server together, as a
 * client that pipelines its handshake would send them (a WebSocket client
 * writes each message on its own). Resolves with what came back once the
 * server sent its close frame or ended the connection, or after `timeoutMs`.
 */
export function pipelined(app: App, messages: object[], timeoutMs = 5_000): Promise<PipelinedExchange> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const tcp = connect({ host: hostname, port: Number(port) });
    const exchange: PipelinedExchange = { messages: [], closed: null };
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const finish = () => {
      clearTimeout(timer);
      tcp.destroy();
      resolve(exchange);
    };
    const timer = setTimeout(finish, timeoutMs);
    tcp.on('error', (error) => (upgraded ? finish() : reject(error)));
    tcp.on('close', finish);
    tcp.on('connect', () => {
      tcp.write(
        `GET /graphql HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Protocol: ${GRAPHQL_TRANSPORT_WS_PROTOCOL}\r\n\r\n`,
      );
    });
    tcp.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`the upgrade was answered ${head.split('\r\n')[0]}`));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        tcp.write(Buffer.concat(messages.map((message) => clientFrame(JSON.stringify(message)))));
      }
      for (let frame = serverFrame(buffer); frame; frame = serverFrame(buffer)) {
        buffer = buffer.subarray(frame.size);
        if (frame.opcode === 0x1) exchange.messages.push(JSON.parse(frame.payload.toString('utf8')));
        if (frame.opcode === 0x8) {
          exchange.closed = { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
          return finish();
        }
      }
    });
  });
}

/** A masked text frame (every client frame is masked, RFC 6455 5.3). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  let length: Buffer;
  if (payload.length < 126) length = Buffer.from([0x80 | payload.length]);
  else if (payload.length < 0x10000) length = Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  else {
    length = Buffer.alloc(9);
    length[0] = 0x80 | 127;
    length.writeBigUInt64BE(BigInt(payload.length), 1);
  }
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81]), length, mask, masked]);
}

/** The first whole (unmasked, unfragmented) server frame in `buffer`, or null while it is incomplete. */
function serverFrame(buffer: Buffer): { opcode: number; payload: Buffer; size: number } | null {
  if (buffer.length < 2) return null;
  let length = buffer[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return null;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return null;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return null;
  return { opcode: buffer[0]! & 0x0f, payload: buffer.subarray(offset, offset + length), size: offset + length };
}

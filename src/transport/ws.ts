import type { Server } from 'node:http';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, validateMessage, type Message } from 'graphql-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { bearerToken, type TokenIssuer } from '../auth/tokens.js';
import type { Viewer } from '../auth/viewer.js';
import type { Logger } from '../logger.js';
import type { Connections } from '../realtime/connections.js';
import type { LiveSource } from '../realtime/live.js';
import type { EndReason } from '../realtime/members.js';
import type { PrepareOperation } from './operations.js';
import { GRAPHQL_PATH } from './yoga.js';

export interface WsOptions {
  server: Server;
  prepare: PrepareOperation;
  tokens: TokenIssuer;
  /** Told of every socket that authenticated, and when it closed. */
  connections: Connections;
  logger: Logger;
  /**
   * A socket whose unsent bytes pass this is closed with 1013 (try again later); its client resumes with `after`.
   * @default 1048576
   */
  maxBufferedBytes?: number;
  /**
   * How long a socket may take to send connection_init (ms).
   * @default 3000
   */
  connectionInitWaitMs?: number;
  /**
   * Every socket is pinged this often (ms); one whose last ping stays unanswered for pongTimeoutMs is dropped.
   * @default 12000
   */
  pingIntervalMs?: number;
  /** @default 30000 */
  pongTimeoutMs?: number;
}

/** setTimeout's limit; a token that lives longer is simply not timed out early. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The close code WebSocket reserves for "try again later" (RFC 6455 registry). */
export const TRY_AGAIN_LATER = 1013;

/**
 * The server side of graphql-transport-ws (the protocol of the graphql-ws
 * client) on `ws`, owned here rather than taken from graphql-ws's server, so
 * a live event is executed and serialised once per group and each
 * subscriber's frame is only its envelope around those bytes. Close codes,
 * messages and their order are the protocol's (graphql-ws's CloseCode and
 * MessageType); what graphql-ws's server closes with, this closes with too.
 */
export function attachGraphqlWs(options: WsOptions): { dispose(): Promise<void> } {
  const { server, pingIntervalMs = 12_000, pongTimeoutMs = 30_000 } = options;
  const wss = new WebSocketServer({
    server,
    path: GRAPHQL_PATH,
    // Agree on the protocol when the client offers it; a socket without it is closed below with 4406.
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false),
  });
  const sockets = new Set<SocketSession>();
  wss.on('connection', (socket) => {
    const session = new SocketSession(socket, options, () => sockets.delete(session));
    sockets.add(session);
  });
  // One timer for every socket's keep-alive, not one per socket.
  const keepAlive = setInterval(
    () => {
      const now = Date.now();
      for (const session of sockets) session.keepAlive(now, pingIntervalMs, pongTimeoutMs);
    },
    Math.min(pingIntervalMs, pongTimeoutMs) / 2,
  );
  keepAlive.unref();
  return {
    async dispose() {
      clearInterval(keepAlive);
      for (const session of sockets) session.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** One socket: its handshake, its viewer, its operations by id, and its frames. */
class SocketSession {
  private initReceived = false;
  private viewer: Viewer | null = null;
  /** Operations by id; null while one is being prepared. */
  private readonly operations = new Map<string, LiveSource<unknown> | null>();
  private initTimer: NodeJS.Timeout | null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private pingSentAt = 0;
  private pongAt = Date.now();
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: WsOptions,
    private readonly forget: () => void,
  ) {
    socket.on('message', (data) => void this.onMessage(data));
    socket.on('pong', () => (this.pongAt = Date.now()));
    socket.once('close', () => this.onClose());
    socket.on('error', () => socket.terminate());
    this.initTimer = null;
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      this.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    this.initTimer = setTimeout(() => {
      if (!this.initReceived) this.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, options.connectionInitWaitMs ?? 3000);
    this.initTimer.unref();
  }

  keepAlive(now: number, intervalMs: number, timeoutMs: number): void {
    if (this.closed) return;
    if (this.pingSentAt > this.pongAt && now - this.pingSentAt >= timeoutMs) return void this.socket.terminate();
    if (this.pingSentAt <= this.pongAt && now - this.pingSentAt >= intervalMs) {
      this.pingSentAt = now;
      this.socket.ping();
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.endOperations();
    this.socket.close(code, reason);
  }

  private async onMessage(data: RawData): Promise<void> {
    if (this.closed) return;
    let message: Message;
    try {
      message = validateMessage(JSON.parse(textOf(data)));
    } catch {
      return this.close(CloseCode.BadRequest, 'Invalid message received');
    }
    try {
      switch (message.type) {
        case MessageType.ConnectionInit:
          return await this.connectionInit(message.payload);
        case MessageType.Ping:
          return this.send(
            JSON.stringify(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }),
          );
        case MessageType.Pong:
          return;
        case MessageType.Subscribe:
          return await this.subscribe(message.id, message.payload);
        case MessageType.Complete:
          return this.complete(message.id);
        default:
          // A server's message sent by the client: graphql-ws's server fails those the same way.
          return this.close(CloseCode.InternalServerError, 'Internal server error');
      }
    } catch (error) {
      this.options.logger.error('a WebSocket message could not be handled', { type: message.type, error: error as Error });
      this.close(CloseCode.InternalServerError, 'Internal server error');
    }
  }

  private async connectionInit(payload: Record<string, unknown> | null | undefined): Promise<void> {
    if (this.initReceived) return this.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
    this.initReceived = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    const params = payload ?? {};
    const token = bearerToken(params.authorization ?? params.Authorization);
    const verified = token ? await this.options.tokens.verify(token) : null;
    if (this.closed) return; // closed while the token was checked: nobody to count
    if (!verified) return this.close(CloseCode.Forbidden, 'Forbidden');
    this.viewer = { userId: verified.userId };
    const ttl = verified.expiresAt - Date.now();
    if (ttl < MAX_TIMER_MS) {
      this.expiryTimer = setTimeout(() => this.close(CloseCode.Forbidden, 'Token expired'), ttl);
      this.expiryTimer.unref();
    }
    this.options.connections.opened(verified.userId);
    this.send('{"type":"connection_ack"}');
  }

  private async subscribe(id: string, payload: Parameters<PrepareOperation>[0]): Promise<void> {
    if (!this.viewer) return this.close(CloseCode.Unauthorized, 'Unauthorized');
    if (this.operations.has(id)) return this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    this.operations.set(id, null);
    const idJson = JSON.stringify(id);
    const prepared = await this.options.prepare(payload, this.viewer);
    if (!this.operations.has(id) || this.closed) {
      if (prepared.kind === 'live') prepared.source.end(); // completed by the client, or closed, meanwhile
      return;
    }
    if (prepared.kind === 'errors') {
      this.operations.delete(id);
      return this.send(`{"id":${idJson},"type":"error","payload":${prepared.payload}}`);
    }
    if (prepared.kind === 'result') {
      this.operations.delete(id);
      this.send(`{"id":${idJson},"type":"next","payload":${prepared.payload}}`);
      return this.send(`{"id":${idJson},"type":"complete"}`);
    }
    const { source, key, renderer } = prepared;
    const prefix = `{"id":${idJson},"type":"next","payload":`;
    this.operations.set(id, source);
    source.bind({
      key,
      renderer,
      write: (out) => this.send(prefix + out + '}'),
      end: (reason) => this.ended(id, idJson, source, reason),
    });
  }

  /** The server ended an operation's stream: the client hears `complete`, an error, or (overload) the socket closes. */
  private ended(id: string, idJson: string, source: LiveSource<unknown>, reason: EndReason): void {
    if (this.operations.get(id) !== source || this.closed) return;
    this.operations.delete(id);
    if (reason === 'overload') return this.close(TRY_AGAIN_LATER, 'Try again later');
    if (reason === 'error') {
      const errors = [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }];
      return this.send(`{"id":${idJson},"type":"error","payload":${JSON.stringify(errors)}}`);
    }
    this.send(`{"id":${idJson},"type":"complete"}`);
  }

  private complete(id: string): void {
    const source = this.operations.get(id);
    this.operations.delete(id);
    source?.end();
  }

  /**
   * Writes a frame. A socket whose client stops reading would otherwise
   * buffer without bound: past maxBufferedBytes it is closed with 1013, and
   * its client resumes from its last cursor.
   */
  private send(frame: string): void {
    if (this.closed) return;
    this.socket.send(frame);
    if (this.socket.bufferedAmount > (this.options.maxBufferedBytes ?? 1024 * 1024)) {
      this.close(TRY_AGAIN_LATER, 'Try again later');
      // It is not reading, so the closing handshake may never finish: do not hold its buffer for long.
      setTimeout(() => this.socket.terminate(), 5000).unref();
    }
  }

  private endOperations(): void {
    const sources = [...this.operations.values()];
    this.operations.clear();
    for (const source of sources) source?.end();
  }

  private onClose(): void {
    this.closed = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.endOperations();
    this.forget();
    if (this.viewer) this.options.connections.closed(this.viewer.userId);
  }
}

/** A frame's text, as graphql-ws's server reads it (binary frames are read as UTF-8 too). */
function textOf(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}

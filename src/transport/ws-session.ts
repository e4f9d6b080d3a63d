import type { Duplex } from 'node:stream';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, validateMessage, type Message } from 'graphql-ws';
import type { RawData, WebSocket } from 'ws';
import { bearerToken } from '../auth/tokens.js';
import type { Viewer } from '../auth/viewer.js';
import type { LiveSource } from '../realtime/live.js';
import type { Binding, EndReason } from '../realtime/members.js';
import type { PrepareOperation } from './operations.js';
import type { WsOptions } from './ws.js';

/** setTimeout's limit; a token that lives longer is simply not timed out early. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The close code WebSocket reserves for "try again later" (RFC 6455 registry). */
export const TRY_AGAIN_LATER = 1013;
/**
 * Frames written to a socket in one turn of the event loop go out in one
 * write (the socket is corked until the turn ends): when a room is busy, a
 * socket gets several events per write instead of a syscall per event.
 */
export class WriteBatcher {
  private readonly held: SocketSession[] = [];
  private scheduled = false;

  hold(session: SocketSession): void {
    session.hold();
    this.held.push(session);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    for (const session of this.held.splice(0)) session.release();
  }
}

/** One socket: its handshake, its viewer, its operations by id, and its frames. */
export class SocketSession {
  private initReceived = false;
  private viewer: Viewer | null = null;
  /** Operations by id; null while one is being prepared. */
  private readonly operations = new Map<string, LiveSource<unknown> | null>();
  private initTimer: NodeJS.Timeout | null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private pingSentAt = 0;
  private pongAt = Date.now();
  private closed = false;
  /** Frames of this turn are being collected for one write. */
  private held = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: WsOptions & { batcher: WriteBatcher },
  ) {
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

  onPong(): void {
    this.pongAt = Date.now();
  }

  async onMessage(data: RawData): Promise<void> {
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
          // A message only a server sends (connection_ack, next, error): invalid from a client, which the
          // protocol answers with 4400 (graphql-ws's own server says 4500, as if the fault were its own).
          return this.close(CloseCode.BadRequest, 'Invalid message received');
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
    this.initTimer = null;
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
    const operation = new LiveOperation(this, id, prepared.source, prepared.key);
    this.operations.set(id, prepared.source);
    prepared.source.bind(operation, prepared.renderer);
  }

  /** The server ended an operation's stream: the client hears `complete`, an error, or (overload) the socket closes. */
  ended(operation: LiveOperation, reason: EndReason): void {
    const { id, source } = operation;
    if (this.operations.get(id) !== source || this.closed) return;
    this.operations.delete(id);
    const idJson = JSON.stringify(id);
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
  send(frame: string): void {
    if (this.closed) return;
    const limit = this.options.maxBufferedBytes ?? 1024 * 1024;
    if (!this.held) {
      // What is still unsent from earlier turns is the reader's backlog.
      if (this.socket.bufferedAmount > limit) return this.tooSlow();
      this.held = true;
      this.options.batcher.hold(this);
    }
    // Within a turn the frames written are bounded by what one turn delivers (a
    // group's backlog, a page of catch-up); they count from the next turn on.
    this.socket.send(frame);
  }

  /** Lets this turn's frames out in one write (WriteBatcher). */
  release(): void {
    this.held = false;
    this.raw.uncork();
  }

  hold(): void {
    this.raw.cork();
  }

  private get raw(): Duplex {
    return (this.socket as unknown as { _socket: Duplex })._socket;
  }

  private tooSlow(): void {
    this.close(TRY_AGAIN_LATER, 'Try again later');
    // It is not reading, so the closing handshake may never finish: do not hold its buffer for long.
    setTimeout(() => this.socket.terminate(), 5000).unref();
  }

  private endOperations(): void {
    const sources = [...this.operations.values()];
    this.operations.clear();
    for (const source of sources) source?.end();
  }

  onClose(): void {
    this.closed = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.endOperations();
    if (this.viewer) this.options.connections.closed(this.viewer.userId);
  }
}

/** A frame's text, as graphql-ws's server reads it (binary frames are read as UTF-8 too). */
function textOf(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}

/**
 * One live operation of a socket, as its source's binding: a class, so the
 * many idle subscriptions of a server share their methods instead of each
 * holding closures of its own.
 */
class LiveOperation implements Binding<string> {
  /** `{"id":…,"type":"next","payload":`: all a frame has of its own besides the shared rendering. */
  private readonly prefix: string;

  constructor(
    private readonly session: SocketSession,
    readonly id: string,
    readonly source: LiveSource<unknown>,
    readonly key: string,
  ) {
    this.prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  }

  write(out: string): void {
    this.session.send(this.prefix + out + '}');
  }

  end(reason: EndReason): void {
    this.session.ended(this, reason);
  }
}

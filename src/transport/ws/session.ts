import type { Duplex } from 'node:stream';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, validateMessage, type Message } from 'graphql-ws';
import type { RawData, WebSocket } from 'ws';
import { bearerToken, type TokenVerifier } from '../../auth/tokens.js';
import type { Viewer } from '../../auth/viewer.js';
import { badInput, publicError } from '../../errors.js';
import type { Limits } from '../../limits/index.js';
import type { PendingSlot } from '../../limits/pending-sockets.js';
import type { WindowCounter } from '../../limits/rate-limits.js';
import type { SocketSlot } from '../../limits/socket-caps.js';
import { LazyChild, type Logger } from '../../logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Connections } from '../../realtime/connections.js';
import type { EndReason, LiveSource, Sink } from '../../realtime/live-source.js';
import type { PrepareOperation } from '../operations.js';
import { timerAt, type Timer } from '../timer-at.js';
import { closeReason, frames, subscriberExists, TOO_MANY_REQUESTS, TRY_AGAIN_LATER } from './frames.js';
import type { Corkable, WriteBatcher } from './write-batcher.js';

/** What a session needs of its server (server.ts documents each option). */
export interface SessionOptions {
  prepare: PrepareOperation;
  tokens: TokenVerifier;
  connections: Connections;
  limits: Limits;
  logger: Logger;
  metrics: Metrics;
  maxBufferedBytes?: number;
  connectionInitWaitMs?: number;
  batcher: WriteBatcher;
}

/** How long a socket may take to send connection_init, unless told otherwise (ms). */
export const DEFAULT_INIT_WAIT_MS = 3000;

/**
 * One subscribe of an id, as the operation table holds it: an object of its
 * own, so a subscribe that finishes preparing can tell whether it is still
 * the id's current one. An id's entry is replaced when the client completes
 * it and subscribes it again while the first is still being prepared; the
 * first must then end, not take the second's place.
 */
interface Operation {
  /** Its subscription once bound; null while being prepared, or for a query or mutation. */
  subscription: SocketSubscription | null;
}

/** One socket: its handshake, its viewer, its operations by id, and its frames. */
export class SocketSession implements Corkable {
  private initReceived = false;
  private viewer: Viewer | null = null;
  /**
   * The ConnectionAck has been written out. Until then a subscribe closes the socket with 4401, however
   * quickly the token was checked: the ack goes out at the end of a turn (WriteBatcher), and a frame read
   * before that was sent before the client could have seen it.
   */
  private acknowledged = false;
  /** The token the viewer signed in with, checked again while the socket lives (its user may be deleted). */
  private token: string | null = null;
  /** A check of the token under way (keepAlive starts at most one at a time). */
  private checking = false;
  private readonly operations = new Map<string, Operation>();
  private initTimer: NodeJS.Timeout | null;
  private expiryTimer: Timer | null = null;
  private pingSentAt = 0;
  private pongAt = Date.now();
  private closed = false;
  /** Frames of this turn are being collected for one write. */
  private held = false;
  /** This socket's graphql-ws messages in the current window. */
  private readonly messages: WindowCounter;
  /** Its place among its user's open sockets, once authenticated. */
  private slot: SocketSlot | null = null;
  /** Its lines carry the connection's id. */
  readonly logger: Logger;
  /** For the closing line's duration (ms, performance.now()). */
  private readonly openedAt = performance.now();
  /** The close this side started (its close frame's code and reason, or 1006 for a cut); null: none (yet). */
  private closedWith: { code: number; reason: string } | null = null;

  constructor(
    private readonly socket: WebSocket,
    /** The connection under the WebSocket (the upgrade request's socket), corked while a turn's frames collect. */
    private readonly raw: Duplex,
    private readonly options: SessionOptions,
    /** The client IP of the upgrade request, for what counts per IP (login, register). */
    private readonly clientIp: string,
    private readonly connectionId: string,
    /** Its place among its IP's sockets not yet authenticated; released once acknowledged, or closed. */
    private pending: PendingSlot | null = null,
  ) {
    this.initTimer = null;
    if (options.logger.enabled('info')) options.logger.info('socket opened', { conn: connectionId });
    this.logger = new LazyChild(options.logger, { conn: connectionId });
    this.messages = options.limits.socketMessages();
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      this.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    this.initTimer = setTimeout(() => {
      if (!this.initReceived) this.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, options.connectionInitWaitMs ?? DEFAULT_INIT_WAIT_MS);
    this.initTimer.unref();
  }

  keepAlive(now: number, intervalMs: number, timeoutMs: number): void {
    if (this.closed) return;
    if (this.pingSentAt > this.pongAt && now - this.pingSentAt >= timeoutMs) {
      this.closedWith ??= { code: 1006, reason: 'No pong' };
      return void this.socket.terminate();
    }
    if (this.pingSentAt <= this.pongAt && now - this.pingSentAt >= intervalMs) {
      this.pingSentAt = now;
      this.socket.ping();
    }
  }

  /**
   * Checks the socket's token again (a cache hit unless its user is due a
   * look-up), so an idle socket with live subscriptions whose user was
   * deleted is closed too. At most one check at a time.
   */
  checkToken(): void {
    if (this.closed || this.token === null || this.checking) return;
    this.checking = true;
    void this.stillSignedIn()
      .catch((error: unknown) => this.logger.error('a socket’s token could not be checked', { error: error as Error }))
      .finally(() => (this.checking = false));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closedWith = { code, reason };
    this.endOperations();
    try {
      this.socket.close(code, closeReason(reason));
    } catch (error) {
      // A socket left open here would answer nothing and hold its slots: cut it (onClose releases them).
      this.logger.error('a WebSocket could not be closed, so it was cut', { code, error: error as Error });
      this.socket.terminate();
    }
  }

  onPong(): void {
    this.pongAt = Date.now();
  }

  async onMessage(data: RawData): Promise<void> {
    if (this.closed) return;
    if (!this.messages.take()) return this.tooMany('ws-messages', 'Too many messages');
    let message: Message;
    try {
      message = validateMessage(withPersistedQuery(JSON.parse(textOf(data))));
    } catch {
      return this.close(CloseCode.BadRequest, 'Invalid message received');
    }
    try {
      switch (message.type) {
        case MessageType.ConnectionInit:
          return await this.connectionInit(message.payload);
        case MessageType.Ping:
          return this.send(frames.pong(message.payload));
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
      this.logger.error('a WebSocket message could not be handled', { type: message.type, error: error as Error });
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
    if (!verified?.ok) return this.close(CloseCode.Forbidden, 'Forbidden');
    const slot = await this.options.limits.sockets.acquire(verified.userId);
    if (this.closed) return slot?.release();
    if (!slot) return this.tooMany('sockets-per-user', 'Too many open sockets');
    this.slot = slot;
    this.viewer = { userId: verified.userId, signedInAt: verified.signedInAt };
    this.token = token;
    // At exp whatever the TTL: past setTimeout's 24.8 days the timer is chained.
    this.expiryTimer = timerAt(verified.expiresAt, () => this.close(CloseCode.Forbidden, 'Token expired'));
    this.options.connections.opened(verified.userId);
    this.pending?.release();
    this.pending = null;
    this.send(frames.connectionAck, (error) => {
      if (!error) this.acknowledged = true;
    });
  }

  private async subscribe(id: string, payload: Parameters<PrepareOperation>[0]): Promise<void> {
    if (!this.acknowledged || !this.viewer) return this.close(CloseCode.Unauthorized, 'Unauthorized');
    if (this.operations.has(id)) return this.close(CloseCode.SubscriberAlreadyExists, subscriberExists(id));
    const operation: Operation = { subscription: null };
    this.operations.set(id, operation);
    // A cache hit while the token's user was checked lately (token-cache.ts); a deleted user's socket closes.
    if (!(await this.stillSignedIn())) return;
    const prepared = await this.options.prepare(payload, this.viewer, this.clientIp, this.logger);
    // Completed by the client meanwhile (and perhaps subscribed again: then the id is another's), or closed.
    if (this.operations.get(id) !== operation || this.closed) {
      if (prepared.kind === 'live') prepared.source.end();
      return;
    }
    if (prepared.kind === 'errors') {
      this.operations.delete(id);
      return this.send(frames.error(id, prepared.payload));
    }
    if (prepared.kind === 'result') {
      this.operations.delete(id);
      this.send(frames.next(id, prepared.payload));
      return this.send(frames.complete(id));
    }
    if (this.subscriptionsFull()) {
      this.operations.delete(id);
      prepared.source.end();
      const message = `At most ${this.options.limits.maxSubscriptionsPerSocket} active subscriptions per socket`;
      return this.send(frames.error(id, JSON.stringify([publicError(badInput(message))])));
    }
    operation.subscription = new SocketSubscription(this, id, prepared, this.options.metrics);
    prepared.source.bind(operation.subscription, prepared.renderer);
  }

  /**
   * Whether the socket's token still holds: its exp has its own timer, so
   * what this catches is a user deleted since connection_init, whom the
   * socket leaves with 4403 as at a refused connection_init.
   */
  private async stillSignedIn(): Promise<boolean> {
    if (this.token === null) return false;
    const check = await this.options.tokens.verify(this.token);
    if (this.closed) return false;
    if (check.ok) return true;
    this.close(CloseCode.Forbidden, check.reason === 'TOKEN_EXPIRED' ? 'Token expired' : 'Forbidden');
    return false;
  }

  /** Only live subscriptions count (known once prepared), not queries and mutations under way. */
  private subscriptionsFull(): boolean {
    let live = 0;
    for (const operation of this.operations.values()) if (operation.subscription) live++;
    return live >= this.options.limits.maxSubscriptionsPerSocket;
  }

  /** The server ended an operation's stream: the client hears `complete`, an error, or (overload) the socket closes. */
  ended(subscription: SocketSubscription, reason: EndReason): void {
    const { id } = subscription;
    if (this.operations.get(id)?.subscription !== subscription || this.closed) return;
    this.operations.delete(id);
    if (reason === 'overload') this.options.metrics.slowReaderClosed('backlog');
    if (reason === 'overload') return this.close(TRY_AGAIN_LATER, 'Try again later');
    if (reason === 'error') return this.send(frames.error(id, UNEXPECTED));
    this.send(frames.complete(id));
  }

  /** One being prepared ends once prepared (subscribe sees its entry gone). */
  private complete(id: string): void {
    const operation = this.operations.get(id);
    this.operations.delete(id);
    operation?.subscription?.source.end();
  }

  /**
   * Writes a frame. A socket whose client stops reading would otherwise
   * buffer without bound: past maxBufferedBytes it is closed with 1013, and
   * its client resumes from its last cursor.
   */
  send(frame: string, onWritten?: (error?: Error) => void): void {
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
    this.socket.send(frame, onWritten);
  }

  /** Lets this turn's frames out in one write (WriteBatcher). */
  release(): void {
    this.held = false;
    this.raw.uncork();
  }

  hold(): void {
    this.raw.cork();
  }

  private tooMany(limit: string, reason: string): void {
    this.options.metrics.rateLimited(limit);
    this.close(TOO_MANY_REQUESTS, reason);
  }

  private tooSlow(): void {
    this.options.metrics.slowReaderClosed('buffer');
    this.close(TRY_AGAIN_LATER, 'Try again later');
    // It is not reading, so the closing handshake may never finish: do not hold its buffer for long.
    setTimeout(() => this.socket.terminate(), 5000).unref();
  }

  /** Those being prepared end once prepared (subscribe sees the socket closed). */
  private endOperations(): void {
    const operations = [...this.operations.values()];
    this.operations.clear();
    for (const operation of operations) operation.subscription?.source.end();
  }

  /** `code`: the close frame's (the client's, or its echo of ours), or 1006 when the connection just ended. */
  onClose(code: number): void {
    this.closed = true;
    const { logger } = this.options;
    if (logger.enabled('info')) {
      // The client's own reason text is not logged: it is whatever the client chose to write.
      logger.info('socket closed', {
        conn: this.connectionId,
        code: this.closedWith?.code ?? code,
        reason: this.closedWith?.reason,
        ms: Math.round(performance.now() - this.openedAt),
        user: this.viewer?.userId,
      });
    }
    if (this.initTimer) clearTimeout(this.initTimer);
    this.expiryTimer?.cancel();
    this.endOperations();
    this.pending?.release();
    this.slot?.release();
    if (this.viewer) this.options.connections.closed(this.viewer.userId);
  }
}

/** What a subscriber whose stream failed is told: the masked error, as yoga masks any other. */
const UNEXPECTED = JSON.stringify([{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);

/**
 * One live subscription of a socket, as its source's sink: a class, so the
 * many idle subscriptions of a server share their methods instead of each
 * holding closures of its own.
 */
class SocketSubscription implements Sink<string> {
  /** `{"id":…,"type":"next","payload":`: all a frame has of its own besides the shared rendering. */
  private readonly prefix: string;
  readonly source: LiveSource<unknown>;
  readonly key: string;
  /** The root field, as the active-subscriptions gauge names it. */
  private readonly field: string;

  constructor(
    private readonly session: SocketSession,
    readonly id: string,
    prepared: { source: LiveSource<unknown>; key: string; field: string },
    private readonly metrics: Metrics,
  ) {
    this.source = prepared.source;
    this.key = prepared.key;
    this.field = prepared.field;
    this.prefix = frames.nextPrefix(id);
    metrics.subscriptionStarted(prepared.field, 'ws');
  }

  write(out: string): void {
    this.session.send(this.prefix + out + '}');
  }

  /** Called once: a source ends its sink once (live-source.ts). */
  end(reason: EndReason): void {
    this.metrics.subscriptionEnded(this.field, 'ws');
    this.session.ended(this, reason);
  }
}

/**
 * A `subscribe` that names a trusted document (`documentId`, or Apollo's
 * `extensions.persistedQuery`) needs no `query`, which graphql-ws's
 * validateMessage requires: it is given an empty one, and the document's text
 * takes its place (operations.ts). Any other message is left as it is.
 */
function withPersistedQuery(message: unknown): unknown {
  const { type, payload } = (message ?? {}) as { type?: unknown; payload?: Record<string, unknown> | null };
  if (type !== MessageType.Subscribe || payload === null || typeof payload !== 'object' || payload.query != null) return message;
  const extensions = payload.extensions as { persistedQuery?: unknown } | null | undefined;
  const named = payload.documentId != null || (typeof extensions === 'object' && extensions?.persistedQuery != null);
  return named ? { ...(message as object), payload: { ...payload, query: '' } } : message;
}

/** A frame's text, as graphql-ws's server reads it (binary frames are read as UTF-8 too). */
function textOf(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}

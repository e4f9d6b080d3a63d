import type { IncomingMessage, Server } from 'node:http';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { TokenVerifier } from '../../auth/tokens.js';
import type { Limits } from '../../limits/index.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Connections } from '../../realtime/connections.js';
import { MISDIRECTED, type HostPolicy } from '../hosts.js';
import type { PrepareOperation } from '../operations.js';
import type { OriginPolicy } from '../origins.js';
import { GRAPHQL_PATH } from '../yoga.js';
import { DEFAULT_INIT_WAIT_MS, SocketSession } from './session.js';
import { WriteBatcher } from './write-batcher.js';

export interface WsOptions {
  server: Server;
  prepare: PrepareOperation;
  tokens: TokenVerifier;
  /** Told of every socket that authenticated, and when it closed. */
  connections: Connections;
  /** Messages per socket, subscriptions per socket, sockets per user, and the client IP of an upgrade. */
  limits: Limits;
  logger: Logger;
  /** Open sockets, subscriptions, slow-reader closes and refusals are counted here. */
  metrics: Metrics;
  /**
   * A socket whose unsent bytes pass this is closed with 1013 (try again later); its client resumes with `after`.
   * @default 1048576
   */
  maxBufferedBytes?: number;
  /**
   * A frame larger than this, before connection_init or after, closes the socket with 1009 (ws does it
   * while reading the frame's header, so the frame is never buffered).
   * @default 65536
   */
  maxPayloadBytes?: number;
  /** Which Origins may open a socket; one that may not is answered 403 at the upgrade. Default: any. */
  origins?: OriginPolicy;
  /** Which Host headers are answered; an upgrade for another is refused with 421 (hosts.ts). Default: any. */
  hosts?: HostPolicy;
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
  /**
   * How often every socket's token is checked again (ms): with the token cache's look-up of its user, the
   * bound on how long a deleted user's socket stays open (USER_RECHECK_MS).
   * @default 10000
   */
  tokenCheckMs?: number;
}

/**
 * The server side of graphql-transport-ws (the protocol of the graphql-ws
 * client) on `ws`, owned here rather than taken from graphql-ws's server, so
 * a live event is executed and serialised once per group and each
 * subscriber's frame is only its envelope around those bytes. Close codes,
 * messages and their order are the protocol's (graphql-ws's CloseCode and
 * MessageType); what graphql-ws's server closes with, this closes with too.
 */
export function attachGraphqlWs(options: WsOptions): { dispose(): Promise<void> } {
  const { server, pingIntervalMs = 12_000, pongTimeoutMs = 30_000, maxPayloadBytes = 64 * 1024, origins, hosts } = options;
  const { tokenCheckMs = 10_000 } = options;
  const wss = new WebSocketServer({
    server,
    path: GRAPHQL_PATH,
    maxPayload: maxPayloadBytes,
    // Cross-site WebSocket hijacking: a page of another site must not open a socket here from its visitor's browser,
    // nor one on a rebound name (whose Origin matches the Host it sends).
    verifyClient: (info, done) => {
      if (hosts && !hosts.allows(info.req.headers.host)) return done(false, MISDIRECTED, 'Misdirected Request');
      if (origins && !origins.upgrade(info)) return done(false, 403, 'Forbidden');
      // Refused before the upgrade rather than closed with 4429 after it: the point is to hold nothing for
      // such a client (no WebSocket, no session, no init timer), and the status costs one write. Its
      // pending sockets are gone within the init timeout at the latest, hence Retry-After.
      if (!pending.admits(clientIpOf(info.req))) {
        options.metrics.rateLimited('pending-sockets-per-ip');
        return done(false, 429, 'Too Many Requests', { 'Retry-After': String(Math.ceil(initWaitMs / 1000)) });
      }
      done(true);
    },
    // Agree on the protocol when the client offers it; a socket without it is closed below with 4406.
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false),
  });
  // ws re-emits the HTTP server's errors (EADDRINUSE from listen, say) on wss, where an 'error' without a
  // listener would throw past the listen promise that already reports them (transport/index.ts).
  wss.on('error', () => {});
  const sockets = new Map<WebSocket, SocketSession>();
  const pending = options.limits.pendingSockets;
  const initWaitMs = options.connectionInitWaitMs ?? DEFAULT_INIT_WAIT_MS;
  const clientIpOf = (request: IncomingMessage) =>
    options.limits.clientIp(request.socket.remoteAddress, request.headers['x-forwarded-for']);
  let connections = 0;
  const sessionOptions = { ...options, batcher: new WriteBatcher() };
  // Listeners shared by every socket (`this` is the socket), not four closures per socket.
  function onMessage(this: WebSocket, data: RawData) {
    void sockets.get(this)?.onMessage(data);
  }
  function onPong(this: WebSocket) {
    sockets.get(this)?.onPong();
  }
  function onClose(this: WebSocket, code: number) {
    sockets.get(this)?.onClose(code);
    if (sockets.delete(this)) options.metrics.socketClosed();
  }
  // `ws` refuses a frame (one over maxPayload: 1009; text that is not UTF-8: 1007) by sending that close
  // frame, then emitting 'error'. Terminating at once dropped the close frame (the client saw 1006 and no
  // reason): let the closing handshake end it, and cut the socket only if the client never answers.
  function onError(this: WebSocket) {
    if (this.readyState !== this.CLOSING) return this.terminate();
    setTimeout(() => this.terminate(), 5000).unref();
  }
  wss.on('connection', (socket, request) => {
    const clientIp = clientIpOf(request);
    // Taken in the same turn as verifyClient admitted it (ws upgrades synchronously once admitted), so the cap is exact.
    const slot = pending.take(clientIp);
    const session = new SocketSession(socket, request.socket, sessionOptions, clientIp, (++connections).toString(36), slot);
    sockets.set(socket, session);
    options.metrics.socketOpened();
    socket.on('message', onMessage).on('pong', onPong).once('close', onClose).on('error', onError);
  });
  // One timer for every socket's keep-alive, not one per socket.
  const keepAlive = setInterval(
    () => {
      const now = Date.now();
      for (const session of sockets.values()) session.keepAlive(now, pingIntervalMs, pongTimeoutMs);
    },
    Math.min(pingIntervalMs, pongTimeoutMs) / 2,
  );
  keepAlive.unref();
  const tokenCheck = setInterval(() => {
    for (const session of sockets.values()) session.checkToken();
  }, tokenCheckMs);
  tokenCheck.unref();
  return {
    async dispose() {
      clearInterval(keepAlive);
      clearInterval(tokenCheck);
      for (const session of sockets.values()) session.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

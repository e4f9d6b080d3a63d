import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { CloseCode, type Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, maskError as yogaMaskError } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken, createTokenIssuer } from './auth/tokens.js';
import type { Viewer } from './auth/viewer.js';
import type { Config } from './config.js';
import { createContextFactory, type Context, type Services } from './context.js';
import { openDatabase, type DatabaseHandle } from './db/client.js';
import { isUnavailableError } from './db/errors.js';
import { serviceUnavailable } from './errors.js';
import { EventsPublisher } from './features/events/events.publisher.js';
import { EventsService } from './features/events/events.service.js';
import { MessagesService } from './features/messages/messages.service.js';
import { MessagesStore } from './features/messages/messages.store.js';
import { RoomFeeds } from './features/messages/room-feeds.js';
import { ReactionsService } from './features/reactions/reactions.service.js';
import { ReactionsStore } from './features/reactions/reactions.store.js';
import { ReadStateService } from './features/read-state/read-state.service.js';
import { ReadStateStore } from './features/read-state/read-state.store.js';
import { RoomsService } from './features/rooms/rooms.service.js';
import { RoomsStore } from './features/rooms/rooms.store.js';
import { SearchService } from './features/search/search.service.js';
import { SearchStore } from './features/search/search.store.js';
import { createMemoryPresence, createRedisPresence, type Presence } from './features/users/presence.js';
import { TypingService } from './features/typing/typing.service.js';
import { UsersService } from './features/users/users.service.js';
import { UsersStore } from './features/users/users.store.js';
import { renderChatGraphiQL } from './graphiql.js';
import { createLogger, type Logger } from './logger.js';
import { createMemoryBus, createRedisBus, type EventBus } from './pubsub/bus.js';
import { buildSchema } from './schema.js';

export const GRAPHQL_PATH = '/graphql';

export interface AppOptions {
  logger?: Logger;
  /**
   * Resources owned by the caller and shared by several apps in one process
   * (two instances on one embedded database in tests). stop() leaves them open.
   */
  shared?: { database?: DatabaseHandle; bus?: EventBus };
}

export interface App {
  readonly instanceId: string;
  /** http://host:port once started. */
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  /** Stops accepting, closes sockets with 1001 (clients reconnect elsewhere), then closes Redis and the database. */
  stop(): Promise<void>;
  /**
   * Ends like a crashed process would, for fault tests: sockets dropped, presence
   * claims left in Redis to lapse, nothing withdrawn or announced.
   */
  kill(): Promise<void>;
}

/** Per-socket state graphql-ws keeps in ctx.extra. */
interface SocketExtra extends Record<PropertyKey, unknown> {
  socket: WebSocket;
  request: IncomingMessage;
  viewer?: Viewer | null;
  expiryTimer?: NodeJS.Timeout;
}

/** setTimeout's limit; a token that lives longer is simply not timed out early. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createApp(config: Config, options: AppOptions = {}): App {
  const instanceId = randomUUID();
  const logger = options.logger ?? createLogger(config.logLevel, { instance: instanceId.slice(0, 8) });
  let started: null | {
    server: Server;
    database: DatabaseHandle;
    bus: EventBus;
    presence: Presence;
    feeds: RoomFeeds;
    typing: TypingService;
    disposeWs: () => Promise<void>;
  } = null;
  let stopping: Promise<void> | null = null;

  async function start(): Promise<void> {
    if (started) return;
    const database = options.shared?.database ?? (await openDatabase(config.database));
    let bus: EventBus;
    try {
      bus =
        options.shared?.bus ??
        (config.redis ? await createRedisBus({ url: config.redis.url, prefix: config.redisPrefix, logger }) : createMemoryBus());
    } catch (error) {
      if (!options.shared?.database) await database.close();
      throw error;
    }
    const presence = bus.redis
      ? createRedisPresence({
          redis: bus.redis,
          prefix: config.redisPrefix,
          instanceId,
          logger,
          ttlMs: config.presenceTtlMs,
          heartbeatMs: config.presenceHeartbeatMs,
        })
      : createMemoryPresence();

    const tokens = createTokenIssuer(config.jwt.secret, config.jwt.ttlSeconds);
    const messagesStore = new MessagesStore(database.db);
    const roomsStore = new RoomsStore(database.db);
    const feeds = new RoomFeeds({
      bus,
      logger,
      pollMs: config.feedPollMs,
      source: {
        after: (roomId, afterSeq, limit) => messagesStore.after(roomId, afterSeq, limit),
        heads: (roomIds) => roomsStore.heads(roomIds),
        existingMemberships: (roomIds, userIds) => roomsStore.existingMemberships(roomIds, userIds),
      },
    });
    const publish = new EventsPublisher(bus, logger);
    const users = new UsersService(new UsersStore(database.db), tokens, presence);
    const rooms = new RoomsService({
      store: roomsStore,
      users,
      publish,
      onMemberLeft: (roomId, userId) => feeds.memberLeft(roomId, userId),
    });
    const messages = new MessagesService({ store: messagesStore, rooms, publish, feeds });
    const reactions = new ReactionsService({ store: new ReactionsStore(database.db), messages, publish });
    const events = new EventsService({ rooms, feeds, bus, logger });
    const typing = new TypingService({ rooms, publish, logger, redis: bus.redis, prefix: config.redisPrefix, lapseMs: config.typingTimeoutMs });
    presence.onChange((userId, online) =>
      rooms.announcePresence(userId, online).catch((error: Error) => logger.warn('could not announce presence', { error })),
    );
    const readState = new ReadStateService({ store: new ReadStateStore(database.db), rooms, publish });
    const search = new SearchService({ store: new SearchStore(database.db), rooms });
    const services: Services = { users, rooms, messages, reactions, events, typing, readState, search, tokens };

    const yoga = createYoga<object, Context>({
      schema: buildSchema() as never,
      context: createContextFactory(services) as never,
      graphqlEndpoint: GRAPHQL_PATH,
      graphiql: { title: 'Chat API', subscriptionsProtocol: 'WS' },
      // Served whole from this process (no CDN), and signed in over WebSocket too.
      renderGraphiQL: renderChatGraphiQL,
      landingPage: false,
      logging: yogaLogger(logger),
      maskedErrors: {
        isDev: false,
        maskError: (error, message) => {
          if (isUnavailableError(error)) return serviceUnavailable();
          const masked = yogaMaskError(error, message, false);
          if (masked !== error) logger.error('unexpected error in an operation', { error: originalOf(error) });
          return masked;
        },
      },
    });

    const server = createServer((req, res) => {
      if (req.url === '/healthz' || req.url?.startsWith('/healthz?')) return void healthz(res, database, bus);
      void yoga(req, res);
    });
    const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
    const ws = useServer<Record<string, unknown> | undefined, SocketExtra>(
      {
        isProd: true,
        onConnect: async (ctx) => {
          const params = ctx.connectionParams ?? {};
          const token = bearerToken(params.authorization ?? params.Authorization);
          const verified = token ? await tokens.verify(token) : null;
          if (!verified) return false; // graphql-ws closes with 4403 Forbidden
          ctx.extra.viewer = { userId: verified.userId };
          const ttl = verified.expiresAt - Date.now();
          if (ttl < MAX_TIMER_MS) {
            ctx.extra.expiryTimer = setTimeout(() => ctx.extra.socket.close(CloseCode.Forbidden, 'Token expired'), ttl);
            ctx.extra.expiryTimer.unref();
          }
          presence.connected(verified.userId);
          return true;
        },
        onDisconnect: (ctx) => {
          clearTimeout(ctx.extra.expiryTimer);
          const userId = ctx.extra.viewer?.userId;
          if (userId && presence.disconnected(userId)) void typing.userDisconnected(userId);
        },
        onSubscribe: async (ctx: WsContext<Record<string, unknown> | undefined, SocketExtra>, _id, params) => {
          // Same envelop as HTTP: same plugins, masking and context factory.
          const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params });
          let document;
          try {
            document = enveloped.parse(params.query);
          } catch (error) {
            return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
          }
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length > 0) return errors.map((e: GraphQLError) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
          const args: ExecutionArgs & { rootValue: typeof enveloped } = {
            schema: enveloped.schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            contextValue: await enveloped.contextFactory(),
            rootValue: enveloped,
          };
          return args;
        },
        execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => never }).execute(args),
        subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => never }).subscribe(args),
      },
      wss,
    );

    feeds.start();
    presence.start();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await feeds.stop();
      await presence.stop();
      if (!options.shared?.bus) await bus.close();
      if (!options.shared?.database) await database.close();
      throw error;
    }
    started = { server, database, bus, presence, feeds, typing, disposeWs: async () => ws.dispose() };
    logger.info('listening', { url: appUrl(server, config.host), database: database.kind, pubsub: bus.kind });
  }

  async function stop(graceful = true): Promise<void> {
    if (!started) return;
    stopping ??= (async () => {
      const { server, database, bus, presence, feeds, typing, disposeWs } = started!;
      typing.close();
      if (!graceful) presence.abandon();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await disposeWs(); // 1001 Going away to every socket
      await feeds.stop();
      await presence.stop();
      const forced = setTimeout(() => server.closeAllConnections(), 3000);
      await closed;
      clearTimeout(forced);
      if (!options.shared?.bus) await bus.close();
      if (!options.shared?.database) await database.close();
      logger.info('stopped');
      started = null;
    })();
    await stopping;
  }

  return {
    instanceId,
    get url() {
      if (!started) throw new Error('The app is not started');
      return appUrl(started.server, config.host);
    },
    get port() {
      if (!started) throw new Error('The app is not started');
      return (started.server.address() as AddressInfo).port;
    },
    start,
    stop: () => stop(true),
    kill: () => stop(false),
  };
}

function appUrl(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** 200 {"status":"ok"} when every backing service answers; 503 naming the ones that do not. */
async function healthz(res: ServerResponse, database: DatabaseHandle, bus: EventBus): Promise<void> {
  const [db, redis] = await Promise.allSettled([database.ping(2000), bus.ping(2000)]);
  const failed = [db.status === 'rejected' ? 'database' : null, redis.status === 'rejected' ? 'redis' : null].filter(Boolean);
  const body = failed.length === 0 ? { status: 'ok' } : { status: 'unavailable', failed };
  res.writeHead(failed.length === 0 ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function withCode(error: unknown, code: string): GraphQLError {
  const e = error instanceof GraphQLError ? error : new GraphQLError(String((error as Error)?.message ?? error));
  return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { ...e.extensions, code } });
}

function originalOf(error: unknown): unknown {
  return (error as { originalError?: unknown })?.originalError ?? error;
}

/** yoga's own log lines, at their level; objects it passes along are not printed. */
function yogaLogger(logger: Logger) {
  const text = (args: unknown[]) => args.filter((a) => typeof a === 'string').join(' ');
  return {
    debug: (...args: unknown[]) => logger.debug(text(args)),
    info: (...args: unknown[]) => logger.info(text(args)),
    warn: (...args: unknown[]) => logger.warn(text(args)),
    error: (...args: unknown[]) => logger.error(text(args)),
  };
}

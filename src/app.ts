import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/client.js';
import { createLogger, type Logger } from './logger.js';
import { openBroker, type Broker } from './realtime/broker.js';
import type { EventBus } from './realtime/bus.js';
import type { Realtime } from './realtime/index.js';
import { createServices } from './services.js';
import { createHttpServer, listen, serverUrl } from './transport/http.js';
import { attachGraphqlWs } from './transport/ws.js';
import { createGraphQLServer } from './transport/yoga.js';

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
  /** Ends like a crashed process would, for fault tests: sockets dropped, presence claims left in Redis to lapse. */
  kill(): Promise<void>;
}

interface Parts {
  database: DatabaseHandle;
  broker: Broker;
  realtime: Realtime;
  server: Server;
  ws: { dispose(): void | Promise<void> };
  listening: boolean;
}

export function createApp(config: Config, options: AppOptions = {}): App {
  const instanceId = randomUUID();
  const logger = options.logger ?? createLogger(config.logLevel, { instance: instanceId.slice(0, 8) });
  let running: Partial<Parts> | null = null;
  let stopping: Promise<void> | null = null;

  async function start(): Promise<void> {
    if (running) return;
    const parts: Partial<Parts> = {};
    running = parts;
    try {
      parts.database = options.shared?.database ?? (await openDatabase(config.database));
      parts.broker = await openBroker({
        redisUrl: config.redis?.url ?? null,
        prefix: config.redisPrefix,
        logger,
        sharedBus: options.shared?.bus,
      });
      const { services, realtime } = createServices(config, { db: parts.database.db, broker: parts.broker, logger, instanceId });
      parts.realtime = realtime;
      const graphql = createGraphQLServer(services, logger);
      const { database, broker } = parts;
      parts.server = createHttpServer({
        graphql,
        health: { database: (ms) => database.ping(ms), redis: (ms) => broker.ping(ms) },
      });
      parts.ws = attachGraphqlWs({ server: parts.server, graphql, tokens: services.tokens, connections: realtime.connections });
      realtime.start();
      await listen(parts.server, config.port, config.host);
      parts.listening = true;
    } catch (error) {
      await teardown(parts, true);
      running = null;
      throw error;
    }
    logger.info('listening', {
      url: serverUrl(parts.server, config.host),
      database: parts.database.kind,
      pubsub: parts.broker.kind,
    });
  }

  /**
   * The one teardown order, for stop(), kill() and a start that failed half
   * way: stop taking work, say goodbye to sockets, end live streams, let HTTP
   * drain, then close what the app opened (never what it was lent).
   */
  async function teardown(parts: Partial<Parts>, graceful: boolean): Promise<void> {
    const { database, broker, realtime, server, ws } = parts;
    realtime?.hooks.emit('stopping', { graceful });
    const drained = parts.listening && server ? new Promise<void>((resolve) => server.close(() => resolve())) : null;
    server?.closeIdleConnections();
    await ws?.dispose(); // 1001 Going away to every socket
    await realtime?.stop();
    if (drained) {
      const forced = setTimeout(() => server!.closeAllConnections(), 3000);
      await drained;
      clearTimeout(forced);
    }
    if (broker) await broker.close();
    if (database && !options.shared?.database) await database.close();
  }

  async function stop(graceful: boolean): Promise<void> {
    if (!running?.listening) return;
    const parts = running;
    stopping ??= teardown(parts, graceful).then(() => {
      logger.info('stopped');
      running = null;
      stopping = null;
    });
    await stopping;
  }

  const listening = () => {
    if (!running?.listening) throw new Error('The app is not started');
    return running.server!;
  };
  return {
    instanceId,
    get url() {
      return serverUrl(listening(), config.host);
    },
    get port() {
      return (listening().address() as AddressInfo).port;
    },
    start,
    stop: () => stop(true),
    kill: () => stop(false),
  };
}

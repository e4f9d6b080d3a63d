import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/client.js';
import { createLogger, logDestination, type Logger } from './logger.js';
import { createMetrics, noMetrics } from './observability/metrics.js';
import { openBackplane, type Backplane } from './realtime/backplane.js';
import type { EventBus } from './realtime/bus.js';
import type { Realtime } from './realtime/index.js';
import { buildSchema } from './schema.js';
import { createServices } from './services.js';
import { createTransports, type Transports } from './transport/index.js';
import { loadTrustedDocuments } from './transport/trusted-documents.js';

export interface AppOptions {
  logger?: Logger;
  /**
   * Resources owned by the caller and shared by several apps in one process
   * (two instances on one embedded database in tests). stop() leaves them open.
   */
  shared?: { database?: DatabaseHandle; bus?: EventBus };
  /**
   * The time bans, mutes, slow mode and the moderation log's retention are judged by.
   * @default the system's
   */
  clock?: Clock;
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

/** What a running app holds, in the order start() opens it. */
type Parts = { database: DatabaseHandle; backplane: Backplane; realtime: Realtime; transports: Transports };

export function createApp(config: Config, options: AppOptions = {}): App {
  const instanceId = randomUUID();
  const logger =
    options.logger ?? createLogger(config.logLevel, { instance: instanceId.slice(0, 8) }, logDestination(config.logFormat));
  const { shared = {} } = options;
  let running: Parts | null = null;
  let stopping: Promise<void> | null = null;
  /** Where this instance listens once started; PUBLIC_URL, when set, is what clients are given instead. */
  let listeningAt: string | null = null;
  const origin = () => config.attachments.publicUrl ?? listeningAt ?? `http://localhost:${config.port}`;

  async function start(): Promise<void> {
    if (running) return;
    const parts: Partial<Parts> = {};
    try {
      // The schema, and the trusted documents checked against it, before anything is opened: a bad manifest
      // refuses to start (TrustedDocumentsError) with nothing to undo.
      const schema = buildSchema();
      const trusted = loadTrustedDocuments(config.trustedDocuments, schema);
      const database = (parts.database = shared.database ?? (await openDatabase(config.database, { logger })));
      const backplane = (parts.backplane = await openBackplane(config, { logger, sharedBus: shared.bus }));
      const health = { database: database.ping, redis: backplane.ping };
      // chat_redis_up only where there is a Redis to be up.
      const metrics = config.metrics.enabled ? createMetrics(backplane.redis ? health : { database: health.database }) : null;
      const counted = {
        db: database.db,
        backplane,
        logger,
        instanceId,
        metrics: metrics ?? noMetrics,
        clock: options.clock ?? systemClock,
        origin,
      };
      const { services, realtime, limits, tokens } = createServices(config, counted);
      parts.realtime = realtime;
      parts.transports = await createTransports({
        ...{ services, schema, trusted, limits, tokens, connections: realtime.connections, health, logger, config },
        metrics: metrics ?? noMetrics,
        metricsEndpoint: metrics && { registry: metrics.registry, token: config.metrics.token },
      });
      realtime.start();
      await parts.transports.listen(config.port, config.host);
      listeningAt = parts.transports.url(config.host);
    } catch (error) {
      await teardown(parts, true);
      throw error;
    }
    running = parts as Parts;
    logger.info('listening', {
      url: running.transports.url(config.host),
      database: parts.database.kind,
      pubsub: parts.backplane.kind,
    });
  }

  /**
   * The one teardown order, for stop(), kill() and a start that failed half
   * way: stop taking work, say goodbye to sockets, end live streams (SSE
   * responses end with them), let HTTP drain, then close what the app opened
   * (never what it was lent).
   */
  async function teardown(parts: Partial<Parts>, graceful: boolean): Promise<void> {
    parts.realtime?.hooks.emit('stopping', { graceful });
    await parts.transports?.close();
    await parts.realtime?.stop();
    await parts.transports?.drained();
    await parts.backplane?.close();
    if (!shared.database) await parts.database?.close();
  }

  function stop(graceful: boolean): Promise<void> {
    if (!running) return Promise.resolve();
    const parts = running;
    stopping ??= teardown(parts, graceful).then(() => {
      logger.info('stopped');
      running = stopping = null;
    });
    return stopping;
  }

  const started = () => {
    if (!running) throw new Error('The app is not started');
    return running.transports;
  };
  return {
    instanceId,
    get url() {
      return started().url(config.host);
    },
    get port() {
      return started().port;
    },
    start,
    stop: () => stop(true),
    kill: () => stop(false),
  };
}

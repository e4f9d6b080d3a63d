import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import type { TokenVerifier } from '../auth/tokens.js';
import type { Config } from '../config.js';
import type { Services } from '../context.js';
import { createErrorMasker } from '../errors.js';
import type { Limits } from '../limits/index.js';
import type { Logger } from '../logger.js';
import type { MetricsEndpoint } from '../observability/metrics-endpoint.js';
import type { Metrics } from '../observability/metrics.js';
import type { Connections } from '../realtime/connections.js';
import { loadGraphiQL } from './graphiql.js';
import { createHostPolicy } from './hosts.js';
import { createHttpServer, type HealthCheck } from './http.js';
import { createMultipartSubscriptions } from './multipart.js';
import { createOperations } from './operations.js';
import { createOriginPolicy } from './origins.js';
import type { TrustedDocuments } from './trusted-documents.js';
import { loadWebClient } from './web.js';
import { attachGraphqlWs } from './ws/server.js';
import { createGraphQLServer } from './yoga.js';

export interface TransportOptions {
  services: Services;
  /** The served schema, built at start (its Mutation fields get their limits here). */
  schema: GraphQLSchema;
  /** The trusted documents, loaded at start: requests may name them by documentId or APQ hash. */
  trusted: TrustedDocuments;
  /** Verifies the token of a request or a socket's connection_init. */
  tokens: TokenVerifier;
  /** The abuse limits of sockets (messages, subscriptions, sockets per user) and the client IP rule. */
  limits: Limits;
  /** Where the ws adapter reports authenticated sockets. */
  connections: Connections;
  /** What /healthz asks, by the name it reports. */
  health: Record<string, HealthCheck>;
  logger: Logger;
  metrics: Metrics;
  /** GET /metrics; null: not served. */
  metricsEndpoint: MetricsEndpoint | null;
  /**
   * What a document, a body and a frame may hold, how much may wait for a slow
   * socket (1013 past it), which browser origins may call, GraphiQL and introspection,
   * and each operation's database budget (the database's query timeout).
   */
  config: Pick<
    Config,
    | 'requestLimits'
    | 'assumedListSize'
    | 'exposure'
    | 'corsOrigins'
    | 'allowedHosts'
    | 'httpServer'
    | 'wsMaxBufferedBytes'
    | 'multipartHeartbeatMs'
    | 'webDir'
    | 'sessions'
    | 'database'
  >;
  /**
   * How long drained() waits for HTTP requests in flight before dropping them (ms).
   * @default 3000
   */
  drainMs?: number;
}

/** GraphQL over HTTP and WebSocket on one port, with the two halves of shutting them down. */
export interface Transports {
  listen(port: number, host: string): Promise<void>;
  /** http://host:port (a wildcard host shows as localhost). */
  url(host: string): string;
  readonly port: number;
  /**
   * Stops accepting connections and closes every WebSocket with 1001 and ends every multipart
   * subscription with SERVICE_UNAVAILABLE (clients reconnect elsewhere).
   */
  close(): Promise<void>;
  /** Resolves when the HTTP requests in flight have ended, dropping them after drainMs. */
  drained(): Promise<void>;
}

export async function createTransports(options: TransportOptions): Promise<Transports> {
  const { services, schema, trusted, tokens, limits, connections, health, logger, metrics, metricsEndpoint, config } = options;
  const { drainMs = 3000 } = options;
  const hosts = createHostPolicy(config.allowedHosts);
  const origins = createOriginPolicy(config.corsOrigins, hosts);
  const multipart = createMultipartSubscriptions({ heartbeatMs: config.multipartHeartbeatMs, logger });
  const graphql = createGraphQLServer(services, { tokens, limits }, logger, {
    ...config,
    schema,
    trusted,
    origins,
    multipart: multipart.plugin,
    streams: limits.streams,
    metrics,
    mutationLimits: limits.mutations,
    databaseBudgetMs: config.database.queryTimeoutMs ?? 5000,
  });
  const { storage } = services;
  const web = loadWebClient(config.webDir, logger, () => storage.origins);
  const graphiql = config.exposure.graphiql ? await loadGraphiQL('Chat API', logger) : null;
  const server: Server = createHttpServer({
    ...{ graphql, health, metrics: metricsEndpoint, web, graphiql, hosts, logger },
    files: storage.serve ? (req, res) => storage.serve!(req, res) : null,
    limits: config.httpServer,
  });
  const masker = createErrorMasker(logger);
  const mask = (error: unknown, message: string) => {
    const masked = masker(error, message);
    metrics.errors([masked as { extensions?: Record<string, unknown> }]);
    return masked;
  };
  const prepare = createOperations({ graphql, services, trusted, mask, logger, metrics });
  const ws = attachGraphqlWs({
    server,
    prepare,
    tokens,
    connections,
    limits,
    logger,
    metrics,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    maxPayloadBytes: config.requestLimits.wsPayloadBytes,
    origins,
    hosts,
    tokenCheckMs: config.sessions.userRecheckMs,
  });
  let closed: Promise<void> | null = null;
  const transports: Transports = {
    listen: (port, host) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    url(host) {
      const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      return `http://${shown}:${this.port}`;
    },
    get port() {
      return (server.address() as AddressInfo).port;
    },
    async close() {
      closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
      server.closeIdleConnections();
      multipart.goingAway();
      await ws.dispose();
    },
    async drained() {
      const forced = setTimeout(() => server.closeAllConnections(), drainMs);
      await closed;
      clearTimeout(forced);
    },
  };
  return transports;
}

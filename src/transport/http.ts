import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { serveMetrics, type MetricsEndpoint } from '../observability/metrics-endpoint.js';
import { inRequestScope, logRequest } from './access-log.js';
import type { GraphiQLSite } from './graphiql.js';
import { MISDIRECTED, misdirectedBody, type HostPolicy } from './hosts.js';
import type { HttpServerLimits } from './transport.config.js';
import type { WebClient } from './web.js';
import type { GraphQLServer } from './yoga.js';

/** A backing service that /healthz asks; it rejects when the service does not answer within the time given. */
export type HealthCheck = (timeoutMs: number) => Promise<void>;

export interface HttpOptions {
  graphql: GraphQLServer;
  /** By the name /healthz reports when it fails ("database", "redis"). */
  health: Record<string, HealthCheck>;
  /** GET /metrics; null: 404 like any unknown path. */
  metrics: MetricsEndpoint | null;
  /** The browser client at `/`; null: not served. */
  web: WebClient | null;
  /** The embedded storage's PUTs and GETs at /files/ (attachments); null: files live elsewhere (S3). */
  files: ((req: IncomingMessage, res: ServerResponse) => boolean) | null;
  /** GraphiQL's page (GET /graphql from a browser) and files; null: off. */
  graphiql: GraphiQLSite | null;
  /** Which Host headers are answered (ALLOWED_HOSTS). */
  hosts: HostPolicy;
  limits: HttpServerLimits;
  /** One line per request (access-log.ts): at info, except /metrics scrapes (debug); /healthz is not logged. */
  logger: Logger;
}

let requests = 0;
const instanceTag = Math.random().toString(36).slice(2, 8);
const REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * The HTTP routes: /healthz, /metrics, the embedded storage's /files/, GraphiQL (its page for a browser's
 * GET /graphql, its files under /graphiql/), the browser client's files (`/`,
 * `/assets/…`), and everything else to yoga (GraphQL at /graphql). WebSocket
 * upgrades on /graphql are the ws adapter's (ws/server.ts). Every request but
 * /healthz gets an id and, when it ends, one log line (access-log.ts).
 *
 * A request for a Host that is not listed is answered 421 before it is
 * routed (hosts.ts), except /healthz: balancers and orchestrators probe an
 * instance by its address, and the answer tells a rebinding page nothing.
 *
 * Node's defaults let a client hold a connection for 60 s by trickling its
 * headers and for 300 s by trickling its body, with no cap on connections;
 * here both timeouts are the configured ones, checked often enough to hold
 * to within a quarter of the headers timeout (at most a second late). Both
 * time only the receiving of a request: once it is whole, the response may
 * stream for as long as it lasts (SSE, multipart), and an upgraded socket
 * (WebSocket) leaves the HTTP parser and its timers behind.
 */
export function createHttpServer({ graphql, health, metrics, files, web, graphiql, hosts, limits, logger }: HttpOptions): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      if (req.url === '/healthz' || req.url?.startsWith('/healthz?')) return void healthz(res, health);
      // The request's id (a proxy's X-Request-Id, or one of ours) for its log lines (context.ts), and in the response.
      const given = req.headers['x-request-id'];
      const requestId =
        typeof given === 'string' && REQUEST_ID.test(given) ? given : `${instanceTag}-${(++requests).toString(36)}`;
      req.headers['x-request-id'] = requestId;
      res.setHeader('x-request-id', requestId);
      const scrape = metrics !== null && (req.url === '/metrics' || req.url?.startsWith('/metrics?') === true);
      logRequest(req, res, requestId, logger, scrape ? 'debug' : 'info');
      if (!hosts.allows(req.headers.host)) return misdirected(res);
      route(req, res, requestId, scrape);
    },
  );
  server.maxConnections = limits.maxConnections;
  return server;

  function route(req: IncomingMessage, res: ServerResponse, requestId: string, scrape: boolean): void {
    if (scrape) return void serveMetrics(req, res, metrics!);
    if (files?.(req, res)) return;
    if (graphiql?.serve(req, res)) return;
    if (web?.serve(req, res)) return;
    inRequestScope(requestId, logger, () => void graphql(req, res));
  }
}

function misdirected(res: ServerResponse): void {
  res.writeHead(MISDIRECTED, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(misdirectedBody);
}

/** 200 {"status":"ok"} when every backing service answers; 503 naming the ones that do not. */
async function healthz(res: ServerResponse, checks: Record<string, HealthCheck>): Promise<void> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(names.map((name) => checks[name]!(2000)));
  const failed = names.filter((_, i) => results[i]!.status === 'rejected');
  const body = failed.length === 0 ? { status: 'ok' } : { status: 'unavailable', failed };
  res.writeHead(failed.length === 0 ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

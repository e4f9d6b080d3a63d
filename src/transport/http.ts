import { createServer, type Server, type ServerResponse } from 'node:http';
import { serveMetrics, type MetricsEndpoint } from '../observability/metrics-endpoint.js';
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
}

let requests = 0;
const instanceTag = Math.random().toString(36).slice(2, 8);
const REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * The HTTP routes: /healthz, /metrics, the browser client's files (`/`,
 * `/assets/…`), and everything else to yoga (GraphQL at /graphql, GraphiQL for
 * a browser there). WebSocket upgrades on /graphql are
 * the ws adapter's (ws.ts).
 */
export function createHttpServer({ graphql, health, metrics, web }: HttpOptions): Server {
  return createServer((req, res) => {
    if (req.url === '/healthz' || req.url?.startsWith('/healthz?')) return void healthz(res, health);
    if (metrics && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) return void serveMetrics(req, res, metrics);
    if (web?.serve(req, res)) return;
    // The request's id (a proxy's X-Request-Id, or one of ours) for its log lines (context.ts), and in the response.
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : `${instanceTag}-${(++requests).toString(36)}`;
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    void graphql(req, res);
  });
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

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { GraphQLServer } from './yoga.js';

/** A backing service that /healthz asks; it rejects when the service does not answer within the time given. */
export type HealthCheck = (timeoutMs: number) => Promise<void>;

export interface HttpOptions {
  graphql: GraphQLServer;
  /** By the name /healthz reports when it fails ("database", "redis"). */
  health: Record<string, HealthCheck>;
}

/**
 * The HTTP routes: /healthz, and everything else to yoga (GraphQL at
 * /graphql, GraphiQL for a browser there). WebSocket upgrades on /graphql are
 * the ws adapter's (ws.ts).
 */
export function createHttpServer({ graphql, health }: HttpOptions): Server {
  return createServer((req, res) => {
    if (req.url === '/healthz' || req.url?.startsWith('/healthz?')) return void healthz(res, health);
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

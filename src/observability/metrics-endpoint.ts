import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsEndpoint {
  registry: Registry;
  /** METRICS_TOKEN; null: open (bind the port privately, or let the proxy refuse /metrics). */
  token: string | null;
}

/** GET /metrics: the registry in Prometheus text format; 401 without the token when one is set. */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  { registry, token }: MetricsEndpoint,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (token !== null && !bearerMatches(req.headers.authorization, token)) {
    res.writeHead(401, { 'www-authenticate': 'Bearer', 'cache-control': 'no-store' }).end();
    return;
  }
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  } catch {
    res.writeHead(500).end();
  }
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvReader } from '../env-reader.js';
import { parseAllowedHost } from './hosts.js';

/** web/dist of this checkout: the same path from src/transport/ and from dist/transport/. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** What one request or frame may hold; each is refused before any resolver runs. */
export interface RequestLimits {
  /** `MAX_QUERY_DEPTH` @default 12 */
  readonly depth: number;
  /** `MAX_ALIASES` @default 30 */
  readonly aliases: number;
  /** `MAX_TOKENS` @default 2000 */
  readonly tokens: number;
  /** `MAX_DIRECTIVES` @default 50 */
  readonly directives: number;
  /** The cost estimate of cost.ts (`first`/`last` multiply, given as literals, variables or defaults) (`MAX_QUERY_COST`) @default 75000 */
  readonly cost: number;
  /** HTTP request body, larger: 413 (`MAX_BODY_BYTES`) @default 262144 */
  readonly bodyBytes: number;
  /** WebSocket frame, larger: closed with 1009 (`WS_MAX_PAYLOAD_BYTES`) @default 65536 */
  readonly wsPayloadBytes: number;
}

/** What the Node HTTP server allows a connection before a request is whole, and how many it holds. */
export interface HttpServerLimits {
  /** A request whose headers have not all arrived by then is answered 408 and closed (`HTTP_HEADERS_TIMEOUT_MS`) @default 10000 */
  readonly headersTimeoutMs: number;
  /**
   * A request not received whole (headers and body) by then is answered 408 and closed; a response
   * that streams afterwards (SSE, multipart) and a WebSocket are not timed (`HTTP_REQUEST_TIMEOUT_MS`) @default 30000
   */
  readonly requestTimeoutMs: number;
  /** Open TCP connections (WebSockets and streams included); more are dropped as they arrive (`MAX_CONNECTIONS`) @default 10000 */
  readonly maxConnections: number;
}

export interface Exposure {
  readonly graphiql: boolean;
  readonly introspection: boolean;
  readonly fieldSuggestions: boolean;
}

/** The transports' variables: request limits, allowed origins, developer conveniences. */
export function parseTransportConfig({ value, integerAtLeast, problems }: EnvReader, cwd: string) {
  const requestLimits: RequestLimits = Object.freeze({
    depth: integerAtLeast('MAX_QUERY_DEPTH', 12, 1),
    aliases: integerAtLeast('MAX_ALIASES', 30, 0),
    tokens: integerAtLeast('MAX_TOKENS', 2000, 10),
    directives: integerAtLeast('MAX_DIRECTIVES', 50, 0),
    cost: integerAtLeast('MAX_QUERY_COST', 75_000, 1),
    bodyBytes: integerAtLeast('MAX_BODY_BYTES', 256 * 1024, 1024),
    wsPayloadBytes: integerAtLeast('WS_MAX_PAYLOAD_BYTES', 64 * 1024, 1024),
  });
  const corsOrigins = (value('CORS_ORIGINS') ?? '').split(',').flatMap((entry) => {
    const text = entry.trim();
    if (text === '' || text === '*') return text === '' ? [] : ['*'];
    const url = URL.canParse(text) ? new URL(text) : null;
    if (url && /^https?:$/.test(url.protocol) && url.pathname === '/' && !url.search && !url.hash && !url.username) {
      return [url.origin];
    }
    problems.push(`CORS_ORIGINS entries must be * or origins such as https://chat.example.com, got "${text}"`);
    return [];
  });
  // Conveniences for a developer; in production an operator turns them on knowingly.
  const development = value('NODE_ENV') !== 'production';
  const flag = (name: string) => {
    const text = value(name) ?? String(development);
    if (text !== 'true' && text !== 'false') problems.push(`${name} must be true or false, got "${text}"`);
    return text === 'true';
  };
  const exposure: Exposure = Object.freeze({
    graphiql: flag('GRAPHIQL'),
    introspection: flag('INTROSPECTION'),
    fieldSuggestions: flag('FIELD_SUGGESTIONS'),
  });
  const multipartHeartbeatMs = integerAtLeast('MULTIPART_HEARTBEAT_MS', 5000, 50);
  const allowedHosts = (value('ALLOWED_HOSTS') ?? '').split(',').flatMap((entry) => {
    if (entry.trim() === '') return [];
    const host = parseAllowedHost(entry);
    if (!host) problems.push(`ALLOWED_HOSTS entries must be host or host:port such as chat.example.com, got "${entry.trim()}"`);
    return host ? [host] : [];
  });
  const httpServer: HttpServerLimits = Object.freeze({
    headersTimeoutMs: integerAtLeast('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100),
    requestTimeoutMs: integerAtLeast('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100),
    maxConnections: integerAtLeast('MAX_CONNECTIONS', 10_000, 1),
  });
  // Node refuses a headers timeout longer than the request timeout (the headers are part of the request).
  if (httpServer.headersTimeoutMs > httpServer.requestTimeoutMs) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS');
  }
  const webText = value('WEB_DIR');
  const webDir = webText === 'off' ? null : webText === undefined ? DEFAULT_WEB_DIR : resolve(cwd, webText);
  // The cost estimate's size of a list without first/last (myRooms, Room.members): kept out of requestLimits, a
  // set of limits, since it is an assumption the cost limit reads.
  const assumedListSize = integerAtLeast('MAX_LIST_SIZE_ASSUMED', 30, 1);
  return {
    requestLimits,
    assumedListSize,
    corsOrigins: Object.freeze(corsOrigins),
    allowedHosts: Object.freeze(allowedHosts),
    httpServer,
    exposure,
    multipartHeartbeatMs,
    webDir,
  };
}

import type { IncomingHttpHeaders } from 'node:http';
import type { CORSOptions, Plugin } from 'graphql-yoga';
import type { HostPolicy } from './hosts.js';

/**
 * Which browser origins may use the API (Config.corsOrigins), for every way
 * in: CORS on HTTP, the WebSocket upgrade and streams (SSE, Apollo's
 * multipart subscriptions). A browser always sends Origin on a WebSocket
 * upgrade and on cross-origin requests, and a page cannot forge it, so it is
 * what tells a page of another site (cross-site WebSocket hijacking, a
 * CSRF'd subscription) from our own. A request with no Origin is not from a
 * browser page (curl, a server, a mobile app), and a same-origin one is the
 * API's own page (GraphiQL): both are allowed. Same-origin compares Origin
 * with Host, so it only believes a Host that ALLOWED_HOSTS lists (hosts.ts).
 */
export interface OriginPolicy {
  allows(origin: string | null | undefined, host: string | null | undefined): boolean;
  allowsRequest(request: Request): boolean;
  /** Only allowed origins get CORS headers; an origin is reflected with credentials only when it is listed by name. */
  cors(request: Request): CORSOptions | false;
  /**
   * Refuses with 403 any streaming response (text/event-stream, multipart/mixed) to a disallowed origin,
   * by what the response is rather than by how Accept was spelled. Subscriptions are refused before they
   * start (streams.ts); this covers the rest (a query answered as SSE, an incremental multipart result).
   */
  streams(): Plugin;
  /** For ws's verifyClient: the upgrade of a disallowed origin is answered 403 and no WebSocket exists. */
  upgrade(info: { origin?: string; req: { headers: IncomingHttpHeaders } }): boolean;
}

export function createOriginPolicy(allowed: readonly string[], hosts: HostPolicy): OriginPolicy {
  const any = allowed.includes('*');
  const listed = new Set(allowed);
  const sameOrigin = (origin: string, host: string | null | undefined) =>
    URL.canParse(origin) && host != null && hosts.allows(host) && new URL(origin).host === host.toLowerCase();
  const allows = (origin: string | null | undefined, host: string | null | undefined) =>
    origin == null || any || listed.has(origin) || sameOrigin(origin, host);
  const allowsRequest = (request: Request) => allows(request.headers.get('origin'), request.headers.get('host'));

  return {
    allows,
    allowsRequest,
    cors(request) {
      const origin = request.headers.get('origin');
      if (origin == null || !allowsRequest(request)) return false;
      // `*` admits any page, so it never comes with credentials; the API's tokens travel in a header anyway.
      return { origin: [origin], credentials: listed.has(origin), methods: ['GET', 'POST'] };
    },
    streams: () => ({
      onResponse(payload) {
        const { request, response, fetchAPI } = payload;
        if (!isStream(response.headers.get('content-type')) || allowsRequest(request)) return;
        void response.body?.cancel().catch(() => {});
        payload.setResponse(originForbidden(fetchAPI));
      },
    }),
    upgrade: ({ origin, req }) => allows(origin, req.headers.host),
  };
}

const isStream = (contentType: string | null) => /^\s*(text\/event-stream|multipart\/mixed)\b/i.test(contentType ?? '');

function originForbidden(fetchAPI: { Response: typeof Response }): Response {
  const body = { errors: [{ message: 'Origin not allowed', extensions: { code: 'FORBIDDEN' } }] };
  return new fetchAPI.Response(JSON.stringify(body), {
    status: 403,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

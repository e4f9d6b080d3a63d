import type { IncomingHttpHeaders } from 'node:http';
import type { CORSOptions, Plugin } from 'graphql-yoga';
import { wantsMultipartSubscription } from './multipart.js';

/**
 * Which browser origins may use the API (Config.corsOrigins), for every way
 * in: CORS on HTTP, the WebSocket upgrade and SSE. A browser always sends
 * Origin on a WebSocket upgrade and on cross-origin requests, and a page
 * cannot forge it, so it is what tells a page of another site (cross-site
 * WebSocket hijacking, a CSRF'd subscription) from our own. Streams (SSE,
 * Apollo's multipart subscriptions) are checked before they subscribe. A request with
 * no Origin is not from a browser page (curl, a server, a mobile app), and a
 * same-origin one is the API's own page (GraphiQL): both are allowed.
 */
export interface OriginPolicy {
  allows(origin: string | null | undefined, host: string | null | undefined): boolean;
  /** Only allowed origins get CORS headers; an origin is reflected with credentials only when it is listed by name. */
  cors(request: Request): CORSOptions | false;
  /** Refuses a streaming request (SSE, multipart subscription) of a disallowed origin with 403 before it subscribes. */
  sse(): Plugin;
  /** For ws's verifyClient: the upgrade of a disallowed origin is answered 403 and no WebSocket exists. */
  upgrade(info: { origin?: string; req: { headers: IncomingHttpHeaders } }): boolean;
}

export function createOriginPolicy(allowed: readonly string[]): OriginPolicy {
  const any = allowed.includes('*');
  const listed = new Set(allowed);
  const sameOrigin = (origin: string, host: string | null | undefined) =>
    URL.canParse(origin) && host != null && new URL(origin).host === host.toLowerCase();
  const allows = (origin: string | null | undefined, host: string | null | undefined) =>
    origin == null || any || listed.has(origin) || sameOrigin(origin, host);
  const allowsRequest = (request: Request) => allows(request.headers.get('origin'), request.headers.get('host'));

  return {
    allows,
    cors(request) {
      const origin = request.headers.get('origin');
      if (origin == null || !allowsRequest(request)) return false;
      // `*` admits any page, so it never comes with credentials; the API's tokens travel in a header anyway.
      return { origin: [origin], credentials: listed.has(origin), methods: ['GET', 'POST'] };
    },
    sse: () => ({
      onRequest(payload) {
        const { request, fetchAPI } = payload;
        const streams = request.headers.get('accept')?.includes('text/event-stream') || wantsMultipartSubscription(request);
        if (!streams || allowsRequest(request)) return;
        payload.endResponse(forbidden(fetchAPI));
      },
    }),
    upgrade: ({ origin, req }) => allows(origin, req.headers.host),
  };
}

function forbidden(fetchAPI: { Response: typeof Response }): Response {
  const body = { errors: [{ message: 'Origin not allowed', extensions: { code: 'FORBIDDEN' } }] };
  return new fetchAPI.Response(JSON.stringify(body), { status: 403, headers: { 'content-type': 'application/json' } });
}

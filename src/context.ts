import type { IncomingMessage } from 'node:http';
import { bearerToken, type TokenVerifier } from './auth/tokens.js';
import type { Viewer } from './auth/viewer.js';
import { unauthenticated } from './errors.js';
import { createLoaders, type Loaders, type Services } from './features/index.js';
import type { Limits } from './limits/index.js';
import { LazyChild, type Logger } from './logger.js';

export { createLoaders, type Loaders, type Services };

export interface Context {
  viewer: Viewer | null;
  /** Where the request came from, as the per-IP limits count it (Config.trustProxy). */
  clientIp: string;
  services: Services;
  loaders: Loaders;
  /** Lines it logs carry the HTTP request's id (`req`, also the response's X-Request-Id) or the socket's (`conn`). */
  logger: Logger;
}

/** What yoga hands the context factory: an HTTP request, or (over WebSocket) what onConnect stored. */
export interface InitialContext {
  request?: Request;
  /** The node request under `request` (yoga's server context on node:http). */
  req?: IncomingMessage;
  extra?: { viewer?: Viewer | null; clientIp?: string; logger?: Logger };
}

/** Who a request is (its token) and where it comes from (its IP, as the per-IP limits count it). */
export interface ContextAuth {
  tokens: TokenVerifier;
  limits: Pick<Limits, 'clientIp'>;
}

/** One context for both transports: the viewer comes from the header or the socket's connection_init. */
export function createContextFactory(services: Services, auth: ContextAuth, logger: Logger) {
  return async (initial: InitialContext): Promise<Context> => {
    let viewer: Viewer | null = null;
    let clientIp = initial.extra?.clientIp;
    if (initial.extra && 'viewer' in initial.extra) {
      viewer = initial.extra.viewer ?? null;
    } else {
      clientIp ??= auth.limits.clientIp(initial.req?.socket.remoteAddress, initial.req?.headers['x-forwarded-for']);
      viewer = await viewerOfRequest(auth.tokens, initial.request?.headers.get('authorization'));
    }
    return {
      viewer,
      clientIp: clientIp ?? 'unknown',
      services,
      logger: initial.extra?.logger ?? new LazyChild(logger, { req: initial.req?.headers['x-request-id'] }),
      loaders: lazyLoaders(() => createLoaders(services, () => viewer)),
    };
  };
}

/**
 * Over HTTP: no Authorization header (or one of another scheme) is nobody,
 * and fields that need a viewer answer TOKEN_MISSING. A Bearer token must be
 * good: a bad or expired one refuses the whole request (UNAUTHENTICATED with
 * reason TOKEN_INVALID or TOKEN_EXPIRED) rather than carry on as nobody, so
 * a client learns that its token, not the operation, is the problem.
 */
async function viewerOfRequest(tokens: TokenVerifier, header: string | null | undefined): Promise<Viewer | null> {
  if (header == null || !/^\s*bearer(\s|$)/i.test(header)) return null;
  const token = bearerToken(header);
  const check = token ? await tokens.verify(token) : null;
  if (check?.ok) return { userId: check.userId, signedInAt: check.signedInAt };
  if (check?.reason === 'TOKEN_EXPIRED') {
    throw unauthenticated('The token has expired: sign in again (refresh a token before it expires)', 'TOKEN_EXPIRED');
  }
  throw unauthenticated('The token is not valid', 'TOKEN_INVALID');
}

/**
 * The loaders, made on first use: most operations (a send, a subscription's
 * checks) need none. A proxy rather than a getter on the context, because
 * envelop copies the context's own properties, which would run a getter.
 */
function lazyLoaders(make: () => Loaders): Loaders {
  let made: Loaders | null = null;
  return new Proxy({} as Loaders, { get: (_, key) => (made ??= make())[key as keyof Loaders] });
}

import type { IncomingMessage } from 'node:http';
import { bearerToken, type TokenVerifier } from './auth/tokens.js';
import type { Viewer } from './auth/viewer.js';
import { unauthenticated } from './errors.js';
import type { EventsService } from './features/events/events.service.js';
import { createMessagesLoaders, type MessagesLoaders } from './features/messages/messages.loaders.js';
import type { MessagesService } from './features/messages/messages.service.js';
import { createReactionsLoaders, type ReactionsLoaders } from './features/reactions/reactions.loaders.js';
import type { ReactionsService } from './features/reactions/reactions.service.js';
import { createReadStateLoaders, type ReadStateLoaders } from './features/read-state/read-state.loaders.js';
import type { ReadStateService } from './features/read-state/read-state.service.js';
import { createRoomsLoaders, type RoomsLoaders } from './features/rooms/rooms.loaders.js';
import type { RoomsService } from './features/rooms/rooms.service.js';
import type { SearchService } from './features/search/search.service.js';
import type { TypingService } from './features/typing/typing.service.js';
import { createUsersLoaders, type UsersLoaders } from './features/users/users.loaders.js';
import type { UsersService } from './features/users/users.service.js';
import type { Limits } from './limits/index.js';
import { LazyChild, type Logger } from './logger.js';

/** What resolvers reach: one service per feature (see services.ts for the wiring). */
export interface Services {
  users: UsersService;
  rooms: RoomsService;
  messages: MessagesService;
  reactions: ReactionsService;
  events: EventsService;
  typing: TypingService;
  readState: ReadStateService;
  search: SearchService;
  tokens: TokenVerifier;
  limits: Limits;
}

/** Batching loaders; each feature brings its own. */
export type Loaders = UsersLoaders & RoomsLoaders & MessagesLoaders & ReactionsLoaders & ReadStateLoaders;

export interface Context {
  viewer: Viewer | null;
  /** Where the request came from, as the per-IP limits count it (Config.trustProxy). */
  clientIp: string;
  services: Services;
  loaders: Loaders;
  /** Lines it logs carry the HTTP request's id (`req`, also the response's X-Request-Id) or the socket's (`conn`). */
  logger: Logger;
}

/**
 * One set per operation (for a live event: per rendering, so nothing is
 * cached across events). `viewer` is read lazily, only by loaders whose
 * answer depends on who asks.
 */
export function createLoaders(services: Services, viewer: () => Viewer | null): Loaders {
  return {
    ...createUsersLoaders(services.users),
    ...createRoomsLoaders(services.rooms),
    ...createMessagesLoaders(services.messages, viewer),
    ...createReactionsLoaders(services.reactions),
    ...createReadStateLoaders(services.readState, viewer),
  };
}

/** What yoga hands the context factory: an HTTP request, or (over WebSocket) what onConnect stored. */
export interface InitialContext {
  request?: Request;
  /** The node request under `request` (yoga's server context on node:http). */
  req?: IncomingMessage;
  extra?: { viewer?: Viewer | null; clientIp?: string; logger?: Logger };
}

/** One context for both transports: the viewer comes from the header or the socket's connection_init. */
export function createContextFactory(services: Services, logger: Logger) {
  return async (initial: InitialContext): Promise<Context> => {
    let viewer: Viewer | null = null;
    let clientIp = initial.extra?.clientIp;
    if (initial.extra && 'viewer' in initial.extra) {
      viewer = initial.extra.viewer ?? null;
    } else {
      clientIp ??= services.limits.clientIp(initial.req?.socket.remoteAddress, initial.req?.headers['x-forwarded-for']);
      viewer = await viewerOfRequest(services.tokens, initial.request?.headers.get('authorization'));
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
  if (check?.ok) return { userId: check.userId };
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

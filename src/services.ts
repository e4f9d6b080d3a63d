import { createProviderVerifier } from './auth/jwks.js';
import { PasswordHasher } from './auth/passwords.js';
import { createTokenIssuer, type TokenVerifier } from './auth/tokens.js';
import type { Config } from './config.js';
import type { Services } from './context.js';
import type { Database } from './db/client.js';
import { EventsService } from './features/events/events.service.js';
import { MessagesService } from './features/messages/messages.service.js';
import { MessagesStore } from './features/messages/messages.store.js';
import { ReactionsService } from './features/reactions/reactions.service.js';
import { ReactionsStore } from './features/reactions/reactions.store.js';
import { ReadStateService } from './features/read-state/read-state.service.js';
import { ReadStateStore } from './features/read-state/read-state.store.js';
import { RoomsService } from './features/rooms/rooms.service.js';
import { RoomsStore } from './features/rooms/rooms.store.js';
import { SearchService } from './features/search/search.service.js';
import { SearchStore } from './features/search/search.store.js';
import { TypingService } from './features/typing/typing.service.js';
import { UsersService } from './features/users/users.service.js';
import { UsersStore } from './features/users/users.store.js';
import { createLimits, type Limits } from './limits/index.js';
import type { Logger } from './logger.js';
import type { Metrics } from './observability/metrics.js';
import type { Broker } from './realtime/broker.js';
import { createRealtime, type Realtime } from './realtime/index.js';

export interface ServicesDeps {
  db: Database;
  broker: Broker;
  logger: Logger;
  instanceId: string;
  metrics: Metrics;
}

/** Stores over the database, the realtime module over the broker, and the services over both. */
export function createServices(
  config: Config,
  { db, broker, logger, instanceId, metrics }: ServicesDeps,
): { services: Services; realtime: Realtime } {
  const messagesStore = new MessagesStore(db);
  const roomsStore = new RoomsStore(db);
  const realtime = createRealtime({
    broker,
    logger,
    metrics,
    instanceId,
    prefix: config.redisPrefix,
    feedPollMs: config.feedPollMs,
    presenceTtlMs: config.presenceTtlMs,
    presenceHeartbeatMs: config.presenceHeartbeatMs,
    source: {
      after: (roomId, afterSeq, limit) => messagesStore.after(roomId, afterSeq, limit),
      heads: (roomIds) => roomsStore.heads(roomIds),
      notMembers: (pairs) => roomsStore.notMembers(pairs),
    },
  });
  const { hooks, publish, hub } = realtime;

  const limits = createLimits(config, { redis: broker.redis?.commands ?? null, instanceId, logger, metrics });
  const { users, tokens } = createUsers(config, db, realtime, limits, logger);
  const rooms = new RoomsService({ store: roomsStore, users, publish, hooks });
  const messages = new MessagesService({ store: messagesStore, rooms, publish, hub, limits, metrics });
  const reactions = new ReactionsService({ store: new ReactionsStore(db), messages, publish });
  const readState = new ReadStateService({ store: new ReadStateStore(db), rooms, publish });
  const typing = new TypingService({ rooms, publish, state: realtime.typing, logger, lapseMs: config.typingTimeoutMs });
  const events = new EventsService({ rooms, realtime });
  const search = new SearchService({ store: new SearchStore(db, config.database.searchTimeoutMs ?? 2000), rooms });

  // Who reacts to which lifecycle event (realtime/hooks.ts lists them).
  hooks.on('presenceChanged', ({ userId, online }) => {
    publish.track(
      rooms.announcePresence(userId, online).catch((error: Error) => logger.warn('could not announce presence', { error })),
    );
  });
  hooks.on('disconnected', ({ userId, last }) => {
    if (last) void typing.userDisconnected(userId);
  });
  hooks.on('stopping', () => typing.close());
  hooks.on('stopping', () => limits.stop());

  return { services: { users, rooms, messages, reactions, events, typing, readState, search, tokens, limits }, realtime };
}

/**
 * Users and the tokens that name them: this server's own (HS256 with
 * JWT_SECRET), an identity provider's (JWT_JWKS_URL, users provisioned on
 * first sight), or both (a provider and LOCAL_AUTH=true).
 */
function createUsers(config: Config, db: Database, realtime: Realtime, limits: Limits, logger: Logger) {
  const { secret, ttlSeconds, issuer, audience, jwks } = config.jwt;
  const local = secret
    ? createTokenIssuer({ secret, ttlSeconds, issuer: jwks ? null : issuer, audience: jwks ? null : audience })
    : null;
  const hasher = new PasswordHasher({ N: config.passwords.scryptN, r: 8, p: 1 });
  const users = new UsersService(
    new UsersStore(db),
    { hasher, issuer: local, localAuth: config.localAuth, provider: jwks !== null },
    realtime.presence,
    limits,
  );
  let tokens: TokenVerifier | null = local;
  if (jwks) {
    tokens = createProviderVerifier({
      jwks,
      // Required with a provider (config.ts).
      issuer: issuer!,
      audience: audience!,
      provision: async (identity) => (await users.provision(identity)).id,
      local: config.localAuth ? local : null,
      logger,
    });
  }
  if (!tokens) throw new Error('no way to verify tokens: set JWT_SECRET or JWT_JWKS_URL');
  return { users, tokens };
}

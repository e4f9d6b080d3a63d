import type { TokenVerifier } from './auth/tokens.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { createFeatureServices, type Services } from './features/index.js';
import { createLimits, type Limits } from './limits/index.js';
import type { Logger } from './logger.js';
import type { Metrics } from './observability/metrics.js';
import { createWebhooks } from './outbox/index.js';
import type { Backplane } from './realtime/backplane.js';
import { createRealtime, type Realtime } from './realtime/index.js';

export interface ServicesDeps {
  db: Database;
  backplane: Backplane;
  logger: Logger;
  instanceId: string;
  metrics: Metrics;
  clock: Clock;
  /** The origin clients reach this instance at (Platform.origin). */
  origin: () => string;
}

export interface Wired {
  services: Services;
  realtime: Realtime;
  limits: Limits;
  /** Verifies the tokens of requests and sockets (the users feature builds it). */
  tokens: TokenVerifier;
}

/**
 * The wiring: the realtime module over the backplane, the abuse limits, then
 * every feature's services (features/index.ts) over both and the database,
 * and the outbox features record webhook events in, with its worker.
 */
export function createServices(
  config: Config,
  { db, backplane, logger, instanceId, metrics, clock, origin }: ServicesDeps,
): Wired {
  // Live feeds read the record through the features' services, built below; they read only once started.
  let services: Services | null = null;
  const built = () => {
    if (!services) throw new Error('the realtime module read the database before the services were built');
    return services;
  };
  const realtime = createRealtime({
    backplane,
    logger,
    metrics,
    instanceId,
    prefix: config.redisPrefix,
    feedPollMs: config.feedPollMs,
    presenceTtlMs: config.presenceTtlMs,
    presenceHeartbeatMs: config.presenceHeartbeatMs,
    source: {
      after: (roomId, afterSeq, limit) => built().messages.after(roomId, afterSeq, limit),
      heads: (roomIds) => built().rooms.heads(roomIds),
      notMembers: (pairs) => built().rooms.notMembers(pairs),
      moderators: (roomId, userIds) => built().rooms.moderatorsAmong(roomId, userIds),
    },
  });
  const limits = createLimits(config, { redis: backplane.redis?.commands ?? null, instanceId, logger, metrics });
  realtime.hooks.on('stopping', () => limits.stop());
  // Webhooks' worker claims from the outbox once the services are built; it ends before the database closes.
  const webhooks = createWebhooks(config.webhooks, { db, logger, metrics });
  realtime.hooks.on('stopping', () => realtime.publish.track(webhooks.stop()));
  services = createFeatureServices({
    ...{ config, db, realtime, limits, logger, metrics, clock, origin },
    redis: backplane.redis?.commands ?? null,
    outbox: webhooks.outbox,
  });
  webhooks.start();
  return { services, realtime, limits, tokens: services.tokens };
}

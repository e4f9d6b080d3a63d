import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { rateLimited } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { clientIp } from './client-ip.js';
import { ExpensiveReads } from './expensive-reads.js';
import { PendingSockets } from './pending-sockets.js';
import { createRateLimiter, WindowCounter, type RateLimiter } from './rate-limits.js';
import type { MutationRateLimits } from './rate.js';
import { createSocketCaps, type SocketCaps } from './socket-caps.js';

/** The per-user limits that mutations count against (mutation-limits.ts maps each Mutation field to one). */
export type MutationLimitName = 'send' | keyof MutationRateLimits;

/** The abuse limits of one instance, as services and transports use them. */
export interface Limits {
  /** Mutation calls per user id, by limit: `send` is sendMessage's. */
  readonly mutations: Readonly<Record<MutationLimitName, RateLimiter>>;
  /** searchMessages calls per user id (every call, aliased ones included). */
  readonly search: RateLimiter;
  /** The turns of expensive reads (searches, large pages) on this instance. */
  readonly expensiveReads: ExpensiveReads;
  /** Failed logins per lower-cased username. */
  readonly loginUser: RateLimiter;
  /** Successful logins per lower-cased username. */
  readonly loginSuccess: RateLimiter;
  /** Failed logins per client IP. */
  readonly loginIp: RateLimiter;
  /** register per client IP. */
  readonly registerIp: RateLimiter;
  /** Query.users per user id. */
  readonly userSearch: RateLimiter;
  /** A fresh count of one socket's graphql-ws messages (a socket lives on one instance: nothing to share). */
  socketMessages(): WindowCounter;
  readonly maxSubscriptionsPerSocket: number;
  /** Open sockets per user. */
  readonly sockets: SocketCaps;
  /** Sockets not yet authenticated per client IP, on this instance. */
  readonly pendingSockets: PendingSockets;
  /** Open HTTP streams (SSE, multipart subscriptions) per user. */
  readonly streams: SocketCaps;
  /** The client IP of a request or WebSocket upgrade (Config.trustProxy). */
  clientIp(remoteAddress: string | undefined, forwardedFor: string | string[] | undefined): string;
  stop(): void;
}

export interface LimitsDeps {
  /** The app's command connection (never queues); null without Redis. */
  redis: Redis | null;
  instanceId: string;
  logger: Logger;
  /** Counts each refusal by the limit's name. */
  metrics?: Metrics;
}

export function createLimits(config: Config, { redis, instanceId, logger, metrics }: LimitsDeps): Limits {
  const { rateLimits, mutationRateLimits: more, redisPrefix: prefix } = config;
  const limiter = (name: string, rate: Config['rateLimits']['send']) =>
    counted(createRateLimiter({ name, rate, redis, prefix, logger }), name, metrics);
  const caps = { redis, prefix, instanceId, logger, ttlMs: config.presenceTtlMs, renewMs: config.presenceHeartbeatMs };
  const sockets = createSocketCaps({ ...caps, max: config.maxSocketsPerUser });
  const streams = createSocketCaps({ ...caps, max: config.maxStreamsPerUser, name: 'streams' });
  return {
    mutations: Object.freeze({
      send: limiter('send', rateLimits.send),
      edit: limiter('edit', more.edit),
      react: limiter('react', more.react),
      typing: limiter('typing', more.typing),
      read: limiter('read', more.read),
      rooms: limiter('rooms', more.rooms),
      refresh: limiter('refresh', more.refresh),
      moderation: limiter('moderation', more.moderation),
      reports: limiter('reports', more.reports),
      blocks: limiter('blocks', more.blocks),
    }),
    search: limiter('search', config.searchRate),
    expensiveReads: new ExpensiveReads(config.database.expensiveConcurrency ?? 1, config.database.queryTimeoutMs ?? 5000),
    loginUser: limiter('login-user', rateLimits.loginUser),
    loginSuccess: limiter('login-success', config.loginSuccessRate),
    loginIp: limiter('login-ip', rateLimits.loginIp),
    registerIp: limiter('register-ip', rateLimits.registerIp),
    userSearch: limiter('user-search', rateLimits.userSearch),
    socketMessages: () => new WindowCounter(rateLimits.wsMessages),
    maxSubscriptionsPerSocket: config.maxSubscriptionsPerSocket,
    sockets,
    pendingSockets: new PendingSockets(config.maxPendingSocketsPerIp),
    streams,
    clientIp: (remoteAddress, forwardedFor) => clientIp(remoteAddress, forwardedFor, config.trustProxy),
    stop: () => {
      sockets.stop();
      streams.stop();
    },
  };
}

/** The limiter, with each refusal counted under its name. */
function counted(limiter: RateLimiter, name: string, metrics: Metrics | undefined): RateLimiter {
  if (!metrics) return limiter;
  return {
    rate: limiter.rate,
    async consume(key) {
      const verdict = await limiter.consume(key);
      if (!verdict.allowed) metrics.rateLimited(name);
      return verdict;
    },
    refund: (key) => limiter.refund(key),
  };
}

/** Spends a point of `key`, or refuses with RATE_LIMITED and the seconds to wait. */
export async function enforce(limiter: RateLimiter, key: string): Promise<void> {
  const verdict = await limiter.consume(key);
  if (!verdict.allowed) throw rateLimited(verdict.retryAfter);
}

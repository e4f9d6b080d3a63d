import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import { createMemoryBus } from './bus.memory.js';
import { createRedisBus } from './bus.redis.js';
import { openRedis, type RedisConnections } from './redis.js';

/**
 * What connects this instance to the others: the bus, and the Redis
 * connections that presence, typing and the limits share. Without Redis,
 * an in-process bus and no connections (one instance).
 */
export interface Backplane {
  readonly kind: 'memory' | 'redis';
  readonly bus: EventBus;
  /** This instance's Redis connections; null without Redis (presence and typing stay in this process). */
  readonly redis: RedisConnections | null;
  ping: (timeoutMs: number) => Promise<void>;
  close(): Promise<void>;
}

export interface BackplaneOptions {
  logger: Logger;
  /**
   * An in-memory bus owned by the caller and shared by several instances in
   * one process (tests); close() leaves it alone.
   */
  sharedBus?: EventBus;
}

/** Redis when `config.redis` is set (channels under `config.redisPrefix`), an in-process bus otherwise. */
export async function openBackplane(
  config: Pick<Config, 'redis' | 'redisPrefix'>,
  { logger, sharedBus }: BackplaneOptions,
): Promise<Backplane> {
  const prefix = config.redisPrefix;
  if (sharedBus || !config.redis) {
    return { kind: 'memory', bus: sharedBus ?? createMemoryBus(), redis: null, ping: async () => {}, close: async () => {} };
  }
  const redis = await openRedis({ url: config.redis.url, logger });
  return {
    kind: 'redis',
    bus: createRedisBus({ redis, prefix, logger }),
    redis,
    ping: (timeoutMs) => redis.ping(timeoutMs),
    close: () => redis.close(),
  };
}

import { EventEmitter } from 'node:events';
import { PubSub } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import { withDeadline } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Topic } from './topics.js';

/**
 * The pub/sub boundary. Publishing is fast-path only: the database is the
 * record, and live feeds fill whatever pub/sub loses from it (see
 * features/messages/room-feeds.ts). So publish never blocks a committed write
 * on Redis, and `onResubscribed` tells feeds when they may have missed events.
 */
export interface EventBus {
  readonly kind: 'memory' | 'redis';
  /** A connection for plain commands (presence keys); null without Redis. Never queues while disconnected. */
  readonly redis: Redis | null;
  publish<T>(topic: Topic<T>, payload: T): Promise<void>;
  subscribe<T>(topic: Topic<T>, onEvent: (payload: T) => void): Promise<number>;
  unsubscribe(id: number): void;
  /** Called after the subscriber connection came back from an outage. */
  onResubscribed(listener: () => void): void;
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** One process, no Redis: a plain emitter (no listener limit: one listener per room feed). */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const pubsub = new PubSub({ eventEmitter: emitter });
  return {
    kind: 'memory',
    redis: null,
    // Round-trip through JSON so payloads look exactly as they do after Redis.
    publish: (topic, payload) => pubsub.publish(topic.name, JSON.stringify(payload)),
    subscribe: (topic, onEvent) =>
      pubsub.subscribe(topic.name, (text: string) => {
        const event = topic.parse(JSON.parse(text));
        if (event !== null) onEvent(event);
      }),
    unsubscribe: (id) => pubsub.unsubscribe(id),
    onResubscribed: () => {},
    ping: async () => {},
    close: async () => {},
  };
}

export interface RedisBusOptions {
  url: string;
  prefix: string;
  logger: Logger;
  /** How long start-up waits for Redis before giving up. */
  connectTimeoutMs?: number;
}

export async function createRedisBus({ url, prefix, logger, connectTimeoutMs = 5000 }: RedisBusOptions): Promise<EventBus> {
  // The publisher must never queue: a publish during an outage fails at once
  // instead of hanging the mutation that already committed.
  const publisher = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  // The subscriber queues (SUBSCRIBE during a reconnect) and resubscribes by itself.
  const subscriber = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  let lastError = '';
  for (const [role, client] of [['publisher', publisher], ['subscriber', subscriber]] as const) {
    client.on('error', (error: Error & { code?: string }) => {
      const text = `${role}:${error.code ?? error.message}`;
      if (text !== lastError) logger.warn('redis connection error', { role, code: error.code ?? error.name });
      lastError = text;
    });
  }
  try {
    await withDeadline(Promise.all([publisher.connect(), subscriber.connect()]), connectTimeoutMs, 'redis');
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw error;
  }

  const listeners: Array<() => void> = [];
  let wasReady = true;
  subscriber.on('close', () => (wasReady = false));
  subscriber.on('ready', () => {
    if (wasReady) return;
    wasReady = true;
    lastError = '';
    logger.info('redis subscriber reconnected');
    for (const listener of listeners) listener();
  });

  // RedisPubSub.unsubscribe fires UNSUBSCRIBE and PUNSUBSCRIBE and drops their
  // promises: one that fails (the connection closing meanwhile) would be an
  // unhandled rejection, which can end the process. Nothing is lost by
  // ignoring it: a closed connection has no subscriptions left.
  for (const command of ['unsubscribe', 'punsubscribe'] as const) {
    const original = subscriber[command].bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
    (subscriber as unknown as Record<string, unknown>)[command] = (...args: unknown[]) => {
      const pending = original(...args);
      pending.catch(() => {});
      return pending;
    };
  }

  const pubsub = new RedisPubSub({
    publisher,
    subscriber,
    // Keep the raw text: each topic parses and validates its own payloads.
    deserializer: (source) => source.toString('utf8'),
  });
  const channel = (topic: Topic<unknown>) => prefix + topic.name;

  return {
    kind: 'redis',
    redis: publisher,
    publish: (topic, payload) => pubsub.publish(channel(topic), payload),
    subscribe: (topic, onEvent) =>
      pubsub.subscribe(channel(topic), (text: string) => {
        let event = null;
        try {
          event = topic.parse(JSON.parse(text));
        } catch {
          // Not JSON: dropped below like any other malformed payload.
        }
        if (event === null) {
          logger.warn('dropped a malformed pub/sub payload', { topic: topic.name });
          return;
        }
        onEvent(event);
      }),
    unsubscribe: (id) => pubsub.unsubscribe(id),
    onResubscribed: (listener) => listeners.push(listener),
    ping: async (timeoutMs = 2000) => {
      await withDeadline(publisher.ping(), timeoutMs, 'redis');
    },
    close: async () => {
      // QUIT waits for a connection: during an outage it would wait forever,
      // and shutdown with it. Give it a second, then drop the sockets.
      await withDeadline(Promise.allSettled([publisher.quit(), subscriber.quit()]), 1000, 'redis').catch(() => {});
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

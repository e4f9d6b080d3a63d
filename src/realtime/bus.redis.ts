import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import type { RedisConnections } from './redis.js';
import type { Topic } from './topics.js';

export interface RedisBusOptions {
  redis: RedisConnections;
  /** Prefixes every channel, so deployments (and test runs) can share one Redis. */
  prefix: string;
  logger: Logger;
}

/** Pub/sub across instances over Redis; every payload is validated by its topic before delivery. */
export function createRedisBus({ redis, prefix, logger }: RedisBusOptions): EventBus {
  const { commands, subscriber } = redis;
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
    publisher: commands,
    subscriber,
    // Keep the raw text: each topic parses and validates its own payloads.
    deserializer: (source) => source.toString('utf8'),
  });
  const channel = (topic: Topic<unknown>) => prefix + topic.name;
  const pendingSubscribes = (pubsub as unknown as { subsPendingRefsMap: Map<string, { pending: Promise<unknown> }> })
    .subsPendingRefsMap;

  return {
    kind: 'redis',
    publish: (topic, payload) => pubsub.publish(channel(topic), payload),
    subscribe: (topic, onEvent) => {
      const subscribed = pubsub.subscribe(channel(topic), (text: string) => {
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
      });
      // RedisPubSub keeps a second promise per pending SUBSCRIBE, awaited only
      // by later subscribers of the same channel. When the SUBSCRIBE fails (the
      // connection closing during shutdown) nobody may await it, and its
      // rejection would be unhandled; the caller still sees `subscribed` fail.
      pendingSubscribes.get(channel(topic))?.pending.catch(() => {});
      return subscribed;
    },
    unsubscribe: (id) => pubsub.unsubscribe(id),
    onResubscribed: (listener) => redis.onResubscribed(listener),
  };
}

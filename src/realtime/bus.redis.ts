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

interface Channel {
  /** Listeners by subscription id (several room feeds never share one channel, but user streams may). */
  readonly listeners: Map<number, (text: string) => void>;
  /** The SUBSCRIBE under way or done; every subscriber of the channel awaits the same one. */
  readonly subscribed: Promise<void>;
}

/**
 * Pub/sub across instances over Redis, on ioredis's own API: PUBLISH on the
 * command connection, SUBSCRIBE and UNSUBSCRIBE on the subscriber connection
 * with one Redis subscription per channel however many listen here. Every
 * payload is validated by its topic before delivery.
 *
 * Written here rather than on graphql-redis-subscriptions' RedisPubSub, which
 * drops the promises of its UNSUBSCRIBE and of a SUBSCRIBE no second caller
 * waits for: when shutdown closes the subscriber connection with those still
 * queued (during a Redis outage), they reject with nobody to handle them, an
 * unhandled rejection that can end the process. Here every command's promise
 * has its handler.
 */
export function createRedisBus({ redis, prefix, logger }: RedisBusOptions): EventBus {
  const { commands, subscriber } = redis;
  const channels = new Map<string, Channel>();
  const byId = new Map<number, string>();
  let ids = 0;

  subscriber.on('message', (name: string, text: string) => {
    const channel = channels.get(name);
    if (!channel) return;
    for (const listener of channel.listeners.values()) listener(text);
  });

  const channelName = (topic: Topic<unknown>) => prefix + topic.name;

  function listenerOf<T>(topic: Topic<T>, onEvent: (payload: T) => void) {
    return (text: string) => {
      let event: T | null = null;
      try {
        event = topic.parse(JSON.parse(text));
      } catch {
        // Not JSON: dropped below like any other malformed payload.
      }
      if (event === null) return logger.warn('dropped a malformed pub/sub payload', { topic: topic.name });
      onEvent(event);
    };
  }

  return {
    publish: async (topic, payload) => {
      await commands.publish(channelName(topic), JSON.stringify(payload));
    },
    async subscribe(topic, onEvent) {
      const name = channelName(topic);
      let channel = channels.get(name);
      if (!channel) {
        const subscribing = subscriber.subscribe(name).then(() => {});
        channel = { listeners: new Map(), subscribed: subscribing };
        channels.set(name, channel);
        // A SUBSCRIBE that fails (the connection closed while it waited) leaves no channel behind.
        const failed = channel;
        subscribing.catch(() => {
          if (channels.get(name) === failed) channels.delete(name);
        });
      }
      const id = ++ids;
      channel.listeners.set(id, listenerOf(topic, onEvent));
      byId.set(id, name);
      try {
        await channel.subscribed;
      } catch (error) {
        channel.listeners.delete(id);
        byId.delete(id);
        throw error;
      }
      return id;
    },
    unsubscribe(id) {
      const name = byId.get(id);
      if (name === undefined) return;
      byId.delete(id);
      const channel = channels.get(name);
      if (!channel) return;
      channel.listeners.delete(id);
      if (channel.listeners.size > 0) return;
      channels.delete(name);
      // Fails only when the connection is gone, and a closed connection holds no subscriptions.
      subscriber.unsubscribe(name).catch(() => {});
    },
    onResubscribed: (listener) => redis.onResubscribed(listener),
  };
}

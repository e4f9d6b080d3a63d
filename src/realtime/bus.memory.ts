import { EventEmitter } from 'node:events';
import { PubSub } from 'graphql-subscriptions';
import type { EventBus } from './bus.js';

/** One process, no Redis: a plain emitter (no listener limit: one listener per room feed). */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const pubsub = new PubSub({ eventEmitter: emitter });
  return {
    kind: 'memory',
    // Round-trip through JSON so payloads look exactly as they do after Redis.
    publish: (topic, payload) => pubsub.publish(topic.name, JSON.stringify(payload)),
    subscribe: (topic, onEvent) =>
      pubsub.subscribe(topic.name, (text: string) => {
        const event = topic.parse(JSON.parse(text));
        if (event !== null) onEvent(event);
      }),
    unsubscribe: (id) => pubsub.unsubscribe(id),
    onResubscribed: () => {},
  };
}

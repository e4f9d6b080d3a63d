import { EventEmitter } from 'node:events';
import type { EventBus } from './bus.js';

/**
 * One process, no Redis: an emitter, one event per topic name (no listener
 * limit: one listener per room feed). Payloads round-trip through JSON, so
 * they look exactly as they do after Redis and each topic's parser runs.
 */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const listeners = new Map<number, { name: string; listener: (text: string) => void }>();
  let ids = 0;
  return {
    publish: async (topic, payload) => {
      emitter.emit(topic.name, JSON.stringify(payload));
    },
    subscribe: async (topic, onEvent) => {
      const listener = (text: string) => {
        const event = topic.parse(JSON.parse(text));
        if (event !== null) onEvent(event);
      };
      emitter.on(topic.name, listener);
      listeners.set(++ids, { name: topic.name, listener });
      return ids;
    },
    unsubscribe: (id) => {
      const entry = listeners.get(id);
      if (!entry) return;
      listeners.delete(id);
      emitter.off(entry.name, entry.listener);
    },
    onResubscribed: () => {},
  };
}

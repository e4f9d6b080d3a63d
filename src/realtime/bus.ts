import type { Topic } from './topics.js';

/**
 * The pub/sub boundary between instances (bus.memory.ts for one process,
 * bus.redis.ts across many). Publishing is a fast path only: the database is
 * the record, and room feeds fill from it whatever pub/sub loses (feed.ts).
 * So nothing committed ever waits on a publish, and `onResubscribed` tells
 * the hub when events may have been missed.
 */
export interface EventBus {
  publish<T>(topic: Topic<T>, payload: T): Promise<void>;
  /** Resolves with an id for unsubscribe once the subscription is in place. */
  subscribe<T>(topic: Topic<T>, onEvent: (payload: T) => void): Promise<number>;
  unsubscribe(id: number): void;
  /** Called after the subscriber connection came back from an outage. */
  onResubscribed(listener: () => void): void;
}

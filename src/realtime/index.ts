import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Broker } from './broker.js';
import type { EventBus } from './bus.js';
import { Connections } from './connections.js';
import type { FeedSource } from './feed.js';
import { Hooks } from './hooks.js';
import { RoomHub } from './hub.js';
import type { Presence } from './presence.js';
import { createMemoryPresence } from './presence.memory.js';
import { createRedisPresence } from './presence.redis.js';
import { Publisher } from './publisher.js';
import type { TypingState } from './typing-state.js';
import { createMemoryTypingState } from './typing-state.memory.js';
import { createRedisTypingState } from './typing-state.redis.js';
import { UserStream } from './user-stream.js';

/** Everything live and cross-instance, as the features see it. */
export interface Realtime {
  readonly hooks: Hooks;
  /** Transports report authenticated sockets here. */
  readonly connections: Connections;
  readonly publish: Publisher;
  readonly hub: RoomHub;
  readonly bus: EventBus;
  readonly presence: Presence;
  readonly typing: TypingState;
  /** A user's myEvents stream, started: listRooms is read after the user's topic is subscribed. */
  openUserStream(userId: string, listRooms: () => Promise<Array<{ id: string; lastSeq: number }>>): Promise<UserStream>;
  start(): void;
  /** Ends every live stream, withdraws presence (a no-op after an ungraceful `stopping`) and lets its announcements out. */
  stop(): Promise<void>;
}

export interface RealtimeOptions {
  broker: Broker;
  /** What feeds read from the database. */
  source: FeedSource;
  logger: Logger;
  metrics?: Metrics;
  instanceId: string;
  /** Prefixes presence and typing keys in Redis. */
  prefix: string;
  /** See Config: feedPollMs, presenceTtlMs, presenceHeartbeatMs. */
  feedPollMs: number;
  presenceTtlMs: number;
  presenceHeartbeatMs: number;
}

export function createRealtime(options: RealtimeOptions): Realtime {
  const { broker, source, logger, instanceId, prefix } = options;
  const hooks = new Hooks(logger);
  const { bus } = broker;
  const redis = broker.redis?.commands ?? null;
  const presence = redis
    ? createRedisPresence({
        redis,
        prefix,
        instanceId,
        hooks,
        logger,
        ttlMs: options.presenceTtlMs,
        heartbeatMs: options.presenceHeartbeatMs,
      })
    : createMemoryPresence(hooks);
  hooks.on('connected', ({ userId, first }) => {
    if (first) presence.arrived(userId);
  });
  hooks.on('disconnected', ({ userId, last }) => {
    if (last) presence.departed(userId);
  });
  hooks.on('stopping', ({ graceful }) => {
    if (!graceful) presence.abandon();
  });
  const publish = new Publisher(bus, logger);
  const hub = new RoomHub({ bus, source, hooks, logger, metrics: options.metrics, pollMs: options.feedPollMs });

  return {
    hooks,
    connections: new Connections(hooks),
    publish,
    hub,
    bus,
    presence,
    typing: redis ? createRedisTypingState(redis, prefix) : createMemoryTypingState(),
    async openUserStream(userId, listRooms) {
      const stream = new UserStream({ userId, bus, hub, logger });
      await stream.start(listRooms);
      return stream;
    },
    start() {
      hub.start();
      presence.start();
    },
    async stop() {
      await hub.stop();
      await presence.stop();
      // Offline announcements of the users leaving with this instance go out before Redis closes.
      await publish.settle();
    },
  };
}

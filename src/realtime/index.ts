import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Backplane } from './backplane.js';
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

/**
 * Everything live and cross-instance, one name per role:
 *
 * - backplane: what connects this instance to the others (backplane.ts): the
 *   bus, and the Redis connections presence, typing and the limits share.
 * - bus: pub/sub of topics between instances (bus.memory.ts, bus.redis.ts);
 *   a fast path only, the database is the record.
 * - topic: one channel (a room's, a user's) with the parser of its payloads (topics.ts).
 * - publisher: how services announce what they committed (publisher.ts).
 * - hub: this instance's room feeds, by room; it polls them against the database (hub.ts).
 * - room feed: one room's events on this instance, from one bus subscription;
 *   messages emitted in seq order, gaps read from the database (feed.ts).
 * - subscriber: one subscription's place in a room feed, for messages (with
 *   its seq position and catch-up) or for the room's other events
 *   (subscriber.ts). A room member is a member; a subscriber is a subscription.
 * - group: a feed's subscribers with the same selection; each event is
 *   rendered once per group (group.ts).
 * - renderer: turns an event into what a sink receives (group.ts; the
 *   transports' in transport/render.ts).
 * - sink: where a bound subscriber's renderings go, a transport's
 *   subscription; it hears how the stream ended (live-source.ts).
 * - live source: what a subscribe resolver returns, registered and not yet
 *   bound: a subscriber, a user stream, or one of those mapped (live-source.ts).
 * - user stream: one user's myEvents, a subscriber in each of their rooms'
 *   feeds plus their user topic (user-stream.ts).
 * - presence: who is online on any instance (presence*.ts); typing state:
 *   who is typing where (typing-state*.ts).
 * - hooks: this instance's lifecycle events (hooks.ts); connections: its
 *   authenticated sockets per user, which emit `connected`/`disconnected`.
 */
export interface Realtime {
  readonly hooks: Hooks;
  /** Transports report authenticated sockets here. */
  readonly connections: Connections;
  readonly publish: Publisher;
  readonly hub: RoomHub;
  readonly presence: Presence;
  readonly typing: TypingState;
  /** A user's myEvents stream, started: listRooms is read after the user's topic is subscribed. */
  openUserStream(userId: string, listRooms: () => Promise<Array<{ id: string; lastSeq: number }>>): Promise<UserStream>;
  start(): void;
  /** Ends every live stream, withdraws presence (a no-op after an ungraceful `stopping`) and lets its announcements out. */
  stop(): Promise<void>;
}

export interface RealtimeOptions {
  backplane: Backplane;
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
  const { backplane, source, logger, instanceId, prefix } = options;
  const hooks = new Hooks(logger);
  const { bus } = backplane;
  const redis = backplane.redis?.commands ?? null;
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

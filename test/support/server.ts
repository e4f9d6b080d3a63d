/**
 * What the test suite takes from the server's own code, in one place. Every
 * other test module reaches the server through its protocol (HTTP and
 * graphql-ws); only starting it, sharing one embedded database or bus
 * between two instances, the Redis bus's own fault test, the message
 * store's batch statement and the users store's prefix query tested as
 * SQL (EXPLAIN), the served schema (what
 * the property tests generate operations from), the clock an app is given
 * (so tests move time instead of sleeping), the environment parser
 * (what turns RATE_LIMIT_* settings into Config fields) and the table of
 * which limit each mutation counts against need its modules.
 */
export { createApp, type App, type AppOptions } from '../../src/app.js';
export type { Clock } from '../../src/clock.js';
export { loadConfig, type Config } from '../../src/config.js';
export { buildSchema } from '../../src/schema.js';
export { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
export { MessagesStore } from '../../src/features/messages/messages.store.js';
export type { EventBus } from '../../src/realtime/bus.js';
export { createMemoryBus } from '../../src/realtime/bus.memory.js';
export { createRedisBus } from '../../src/realtime/bus.redis.js';
export { openRedis } from '../../src/realtime/redis.js';
export { topics } from '../../src/realtime/topics.js';
export { createLogger } from '../../src/logger.js';
export { RoomsStore } from '../../src/features/rooms/rooms.store.js';
export { UsersStore } from '../../src/features/users/users.store.js';
export { memberships, moderationActions, rooms, users } from '../../src/db/schema.js';
export { MUTATION_LIMITS } from '../../src/limits/mutation-limits.js';

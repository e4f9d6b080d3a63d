/**
 * What the test suite takes from the server's own code, in one place. Every
 * other test module reaches the server through its protocol (HTTP and
 * graphql-ws); only starting it, sharing one embedded database or bus
 * between two instances, and the Redis bus's own fault test need its modules.
 */
export { createApp, type App } from '../../src/app.js';
export type { Config } from '../../src/config.js';
export { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
export type { EventBus } from '../../src/realtime/bus.js';
export { createMemoryBus } from '../../src/realtime/bus.memory.js';
export { createRedisBus } from '../../src/realtime/bus.redis.js';
export { openRedis } from '../../src/realtime/redis.js';
export { topics } from '../../src/realtime/topics.js';
export { createLogger } from '../../src/logger.js';
export { RoomsStore } from '../../src/features/rooms/rooms.store.js';
export { memberships, rooms, users } from '../../src/db/schema.js';

/**
 * What the test suite takes from the server's own code, in one place. Every
 * other test module reaches the server through its protocol (HTTP and
 * graphql-ws); only starting it, and sharing one embedded database or bus
 * between two instances, needs its modules.
 */
export { createApp, type App } from '../../src/app.js';
export type { Config } from '../../src/config.js';
export { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
export type { EventBus } from '../../src/realtime/bus.js';
export { createMemoryBus } from '../../src/realtime/bus.memory.js';

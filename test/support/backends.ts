import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { testConfig } from './config.js';
import {
  createApp,
  createMemoryBus,
  openDatabase,
  type App,
  type Clock,
  type Config,
  type DatabaseHandle,
  type EventBus,
} from './server.js';

/** What a test may give an app besides its configuration. */
export interface AppExtras {
  /** The time bans, mutes, slow mode and the log's retention are judged by (a TestClock). */
  clock?: Clock;
}

/**
 * Where a suite runs. `embedded` always (PGlite in memory, in-process
 * pub/sub); `services` when TEST_DATABASE_URL and TEST_REDIS_URL are set
 * (real Postgres and Redis). A set but unreachable service fails the suite:
 * it is never skipped.
 */
export interface Backend {
  readonly name: 'embedded' | 'services';
  /** Two apps from one Backend are two instances of one deployment. */
  startApp(overrides?: Partial<Config>, extras?: AppExtras): Promise<App>;
  /**
   * An instance that shares the database but announces nothing to the
   * others (its own in-process bus): what they receive from it, they read
   * from the database.
   */
  startIsolatedApp(overrides?: Partial<Config>, extras?: AppExtras): Promise<App>;
  readonly config: Config;
  /**
   * The deployment's database, for tests of a store's SQL itself: the shared
   * handle (embedded) or one more pool on the same database (services).
   * Closed by dispose().
   */
  database(): Promise<DatabaseHandle>;
  /** Stops every app it started and drops what it created. */
  dispose(): Promise<void>;
}

export function backendNames(): Array<Backend['name']> {
  const { TEST_DATABASE_URL, TEST_REDIS_URL } = process.env;
  if (Boolean(TEST_DATABASE_URL) !== Boolean(TEST_REDIS_URL)) {
    throw new Error('Set both TEST_DATABASE_URL and TEST_REDIS_URL, or neither');
  }
  return TEST_DATABASE_URL ? ['embedded', 'services'] : ['embedded'];
}

export async function createBackend(name: Backend['name']): Promise<Backend> {
  return name === 'embedded' ? createEmbeddedBackend() : createServicesBackend();
}

async function createEmbeddedBackend(): Promise<Backend> {
  const database = await openDatabase({ kind: 'pglite', dir: null });
  const bus = createMemoryBus();
  const config = testConfig();
  const apps: App[] = [];
  const start = async (shared: { database: DatabaseHandle; bus?: EventBus }, overrides: Partial<Config>, extras: AppExtras) => {
    const app = createApp({ ...config, ...overrides }, { shared, clock: extras.clock });
    await app.start();
    apps.push(app);
    return app;
  };
  return {
    name: 'embedded',
    config,
    startApp: (overrides = {}, extras = {}) => start({ database, bus }, overrides, extras),
    startIsolatedApp: (overrides = {}, extras = {}) => start({ database, bus: createMemoryBus() }, overrides, extras),
    database: async () => database,
    async dispose() {
      await Promise.allSettled(apps.map((app) => app.stop()));
      await database.close();
    },
  };
}

async function createServicesBackend(): Promise<Backend> {
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const redisUrl = process.env.TEST_REDIS_URL!;
  const suffix = randomBytes(6).toString('hex');
  const dbName = `chat_test_${suffix}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin.unsafe(`create database ${dbName}`);
  } catch (error) {
    await admin.end({ timeout: 1 });
    throw new Error(`TEST_DATABASE_URL is set but Postgres is not usable: ${(error as Error).message}`);
  }
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end({ timeout: 1 });
    throw new Error(`TEST_REDIS_URL is set but Redis is not reachable: ${(error as Error).message}`);
  } finally {
    probe.disconnect();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const config = testConfig({
    database: { kind: 'postgres', url: url.toString(), poolSize: 10 },
    redis: { url: redisUrl },
    redisPrefix: `test:${suffix}:`,
  });
  const apps: App[] = [];
  let database: Promise<DatabaseHandle> | null = null;
  const start = async (overrides: Partial<Config>, extras: AppExtras = {}) => {
    const app = createApp({ ...config, ...overrides }, { clock: extras.clock });
    await app.start();
    apps.push(app);
    return app;
  };
  return {
    name: 'services',
    config,
    startApp: (overrides = {}, extras = {}) => start(overrides, extras),
    // A prefix of its own: its announcements reach no other instance.
    startIsolatedApp: (overrides = {}, extras = {}) => start({ redisPrefix: `test:${suffix}:isolated:`, ...overrides }, extras),
    database: () => (database ??= openDatabase(config.database)),
    async dispose() {
      await Promise.allSettled(apps.map((app) => app.stop()));
      await database?.then((handle) => handle.close()).catch(() => {});
      await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
      await admin.end({ timeout: 2 });
    },
  };
}

import { afterAll, beforeAll, describe } from 'vitest';
import { backendNames, createBackend, type Backend } from './backends.js';
import { seeder } from './seed.js';
import type { App } from './server.js';

export interface Suite {
  /** Known when tests are defined (the backend itself only once beforeAll ran). */
  name: Backend['name'];
  backend: Backend;
  /** Two instances of one deployment (shared database and pub/sub). */
  a: App;
  b: App;
  seed: ReturnType<typeof seeder>;
}

/**
 * Runs the same tests on every backend that is configured: embedded always,
 * real Postgres + Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set.
 * Each file gets its own database (and Redis prefix), dropped afterwards.
 */
export function forEachBackend(title: string, body: (suite: Suite) => void): void {
  for (const name of backendNames()) {
    describe(`${title} [${name}]`, () => {
      const suite = { name } as Suite;
      beforeAll(async () => {
        suite.backend = await createBackend(name);
        [suite.a, suite.b] = await Promise.all([suite.backend.startApp(), suite.backend.startApp()]);
        suite.seed = seeder(suite.a);
      });
      afterAll(async () => {
        await suite.backend?.dispose();
      });
      body(suite);
    });
  }
}

import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { badTokens, seeder, tokenExpiringIn, type TestUser } from '../support/seed.js';
import { loadConfig, type App, type Config } from '../support/server.js';
import type { Suite } from '../support/suite.js';
import type { World } from './arbitraries.js';

/**
 * Rate limits far above what the random traffic of one file sends (it
 * registers, logs in and sends far more than a person would), in the
 * environment's own `N/window` form: with these, what the properties see is
 * the answer to the input, not to its volume. RATE_LIMITED is still a valid
 * answer everywhere.
 */
export const GENEROUS_LIMITS: Record<string, string> = {
  RATE_LIMIT_SEND: '100000/1s',
  RATE_LIMIT_LOGIN_USER: '100000/1s',
  RATE_LIMIT_LOGIN_IP: '100000/1s',
  RATE_LIMIT_REGISTER_IP: '100000/1s',
  RATE_LIMIT_WS_MESSAGES: '100000/1s',
  RATE_LIMIT_EDIT: '100000/1s',
  RATE_LIMIT_REACT: '100000/1s',
  RATE_LIMIT_TYPING: '100000/1s',
  RATE_LIMIT_READ: '100000/1s',
  RATE_LIMIT_ROOMS: '100000/1s',
  RATE_LIMIT_REFRESH: '100000/1s',
  RATE_LIMIT_MODERATION: '100000/1s',
  RATE_LIMIT_REPORTS: '100000/1s',
  RATE_LIMIT_BLOCKS: '100000/1s',
  RATE_LIMIT_LOGIN_SUCCESS: '100000/1s',
  RATE_LIMIT_SEARCH: '100000/1s',
};

/**
 * The Config fields that GENEROUS_LIMITS set, whatever their names: what the
 * environment parser makes of the same environment with and without them.
 * Whichever fields the rate limits live in, the property servers get them
 * from the variables an operator would set; without rate limits this is {}.
 */
export function generousLimits(): Partial<Config> {
  const base = { DATABASE_URL: 'memory://', JWT_SECRET: 'property-tests-secret-that-is-at-least-32-bytes' };
  const plain = loadConfig(base).config as unknown as Record<string, unknown>;
  const generous = loadConfig({ ...base, ...GENEROUS_LIMITS }).config as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.entries(generous).filter(([key, value]) => !isDeepStrictEqual(value, plain[key])));
}

/**
 * fast-check's parameters for one property: PROPERTY_SEED replays a run
 * (fast-check prints the seed and path of a failure); PROPERTY_RUNS sets the
 * number of runs of every property and lifts the time budget. Otherwise the
 * runs stop after `budgetMs` (shrinking included), so a slow backend runs
 * fewer of them, never longer.
 */
export function propertyParameters<T extends [unknown, ...unknown[]]>(
  numRuns: number,
  budgetMs: number,
  examples: NoInfer<T>[] = [],
): fc.Parameters<T> {
  const seed = process.env.PROPERTY_SEED ? Number(process.env.PROPERTY_SEED) : undefined;
  const runs = process.env.PROPERTY_RUNS ? Number(process.env.PROPERTY_RUNS) : undefined;
  return {
    ...(seed !== undefined ? { seed } : {}),
    numRuns: runs ?? numRuns,
    examples,
    plugins: runs === undefined ? [fc.interruptAfterTimeLimit(budgetMs)] : [],
  };
}

/** With PROPERTY_RUNS, a property may run as long as its runs take (else vitest's own timeout holds). */
export const PROPERTY_TIMEOUT_MS = process.env.PROPERTY_RUNS ? 20 * 60_000 : undefined;

export interface PropertyWorld {
  /** The app the properties talk to: the suite's deployment with GENEROUS_LIMITS. */
  app: App;
  /** The signed-in user every run acts as. */
  user: TestUser;
  world: World;
  /**
   * Undoes what random mutations may have done to the world that later runs
   * rely on: the user rejoins the PUBLIC room they own (a leaveRoom left it).
   */
  restore(): Promise<void>;
}

/**
 * One signed-in user and what it can name (two rooms with messages, another
 * user, cursors, bad tokens), made once per file: the random runs then use
 * it, so they register nobody.
 */
export async function propertyWorld(s: Suite): Promise<PropertyWorld> {
  const app = await s.backend.startApp(generousLimits());
  const seed = seeder(app);
  const [user, other] = await seed.users('prop', 'other');
  const room = await seed.room(user);
  const privateRoom = await seed.room(other, 'PRIVATE');
  await seed.invite(user, room, other);
  const sent = [...(await seed.sendMany(user, room, 3)), ...(await seed.sendMany(other, privateRoom, 2))];
  const bad = await badTokens(user.id);
  return {
    app,
    user,
    restore: async () => void (await seed.join(user, room)),
    world: {
      userIds: [user.id, other.id],
      roomIds: [room.id, privateRoom.id],
      messageIds: sent.map((m) => m.id),
      cursors: sent.map((m) => m.cursor),
      tokens: {
        valid: user.token,
        expired: bad.expired ?? (await tokenExpiringIn(user.id, -60)),
        otherSecret: bad['signed with a different secret']!,
        algNone: bad['with alg=none']!,
      },
      secret: 'pw-7f3a9c-never-echoed',
    },
  };
}

import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { ensurePrivateDir, lockDataDir } from '../data-dir.js';
import type { Logger } from '../logger.js';
import { CircuitBreaker } from './breaker.js';
import { GateTimeoutError } from './gate.js';
import { guardPglite, guardPostgres } from './guarded.js';
import * as schema from './schema.js';
import { createSocketWatchdog } from './socket-watchdog.js';

/** One drizzle type for both drivers: stores never know which one runs. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * A statement of fixed SQL text, for what the query builder cannot express,
 * called with its parameters by name (`params[i]` is `$i+1`). On postgres.js
 * it is a prepared statement: from the second call on a connection one
 * Bind/Execute round trip, where an unprepared query with parameters first
 * waits for a Describe. PGlite runs it as given. Rows come back as the driver
 * reads them: column names as selected, timestamps as Date (postgres.js) or
 * text (PGlite).
 */
export function prepareStatement<Row>(
  db: Database,
  name: string,
  text: string,
  params: readonly string[],
): (values: Record<string, unknown>) => Promise<Row[]> {
  const query = db._.session.prepareQuery(
    { sql: text, params: params.map((param) => sql.placeholder(param)) },
    undefined,
    name,
    false,
  );
  return async (values) => {
    // postgres.js answers an array of rows, PGlite a result with `rows`.
    const result = (await query.execute(values)) as Row[] | { rows: Row[] };
    return Array.isArray(result) ? result : result.rows;
  };
}

/** How long calls may take, and when to stop asking (see breaker.ts); each has its default. */
export interface DatabaseLimits {
  /**
   * Every database call's deadline, in ms; also Postgres's statement_timeout (`DATABASE_QUERY_TIMEOUT_MS`).
   * @default 5000
   */
  queryTimeoutMs?: number;
  /**
   * Postgres's statement_timeout for a search, in ms; shorter than queryTimeoutMs (`SEARCH_TIMEOUT_MS`).
   * @default 2000
   */
  searchTimeoutMs?: number;
  /**
   * Consecutive calls failing for want of the database that open the breaker (`DATABASE_BREAKER_THRESHOLD`).
   * @default 3
   */
  breakerThreshold?: number;
  /**
   * While the breaker is open, a probe goes out this often, in ms (`DATABASE_BREAKER_PROBE_MS`).
   * @default 1000
   */
  breakerProbeMs?: number;
  /**
   * Expensive reads (searches, large history pages) running at once on this
   * instance; the rest wait their turn within their operation's budget
   * (`DATABASE_EXPENSIVE_CONCURRENCY`).
   * @default a quarter of the pool (at least 1); 1 on PGlite
   */
  expensiveConcurrency?: number;
}

export type DatabaseConfig = ({ kind: 'postgres'; url: string; poolSize: number } | { kind: 'pglite'; dir: string | null }) &
  DatabaseLimits;

export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: DatabaseConfig['kind'];
  /** Every call goes through it: its state says whether the database is taken to be out. */
  readonly breaker: CircuitBreaker;
  /**
   * Resolves when a trivial query answers within the deadline (and the
   * breaker is closed), or when it could not get a turn because every
   * connection is busy with queries: a busy database is a reachable one.
   */
  ping: (timeoutMs?: number) => Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Told when the breaker opens and closes. */
  logger?: Logger;
}

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));
/** Arbitrary but fixed: every instance migrating the same database takes this lock. */
const MIGRATION_LOCK_ID = 727_001;

/**
 * Opens the database and applies the committed migrations. Postgres holds an
 * advisory lock on a dedicated connection while migrating, because the
 * migrator takes none and two instances starting together would otherwise race.
 */
export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<DatabaseHandle> {
  if (config.kind === 'postgres') return openPostgres(config, options);
  return openPglite(config, options);
}

function breakerFor(
  config: DatabaseLimits,
  concurrency: number,
  probe: () => PromiseLike<unknown>,
  { logger }: OpenOptions,
): CircuitBreaker {
  return new CircuitBreaker({
    service: 'database',
    deadlineMs: config.queryTimeoutMs ?? 5000,
    concurrency,
    threshold: config.breakerThreshold,
    probeIntervalMs: config.breakerProbeMs,
    probe,
    onChange: (state) =>
      state === 'open'
        ? logger?.warn('database unreachable: calls are refused until it answers a probe')
        : logger?.info('database answers again: calls go through'),
  });
}

async function pingThrough(breaker: CircuitBreaker, query: () => PromiseLike<unknown>, timeoutMs: number): Promise<void> {
  try {
    await breaker.run(query, timeoutMs);
  } catch (error) {
    if (!(error instanceof GateTimeoutError)) throw error;
  }
}

async function openPostgres(config: DatabaseConfig & { kind: 'postgres' }, options: OpenOptions): Promise<DatabaseHandle> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const { url, poolSize } = config;
  const deadlineMs = config.queryTimeoutMs ?? 5000;
  // Migrate on a dedicated single-connection client: the advisory lock is a
  // session lock, so lock, migrations and unlock must share one connection.
  const migrator = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5, fetch_types: false });
  try {
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    try {
      await migrate(drizzle(migrator), { migrationsFolder });
    } finally {
      await migrator`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
    }
  } finally {
    await migrator.end({ timeout: 2 });
  }
  // A connection silent past the deadline (and the statement_timeout that
  // cuts every statement by then) is retired; a second of slack lets
  // Postgres's cancellation arrive first.
  const watchdog = createSocketWatchdog(deadlineMs + 1000);
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    connect_timeout: Math.max(1, Math.ceil(deadlineMs / 1000)),
    // A documented option its type declarations lack.
    ...({ socket: watchdog.socket } as object),
    // While the database is out the breaker paces reconnection (a probe per
    // interval); postgres.js's own backoff, growing to 20 s, would only
    // delay recovery once it is back.
    backoff: () => 0,
    // postgres.js 3.4.9 reads array type oids on every new connection and drops
    // that query's promise: a session killed meanwhile became an unhandled
    // rejection (seen in test/integration/faults.test.ts), which ends a Node
    // process. So skip it: the array columns (uuid[]) then arrive in their
    // text form, which drizzle's array columns and the stores' raw rows parse,
    // and array parameters are sent as text and cast in SQL.
    fetch_types: false,
    // Postgres stops what the server no longer waits for. No JIT: on these
    // short queries compiling costs more than it saves (the unread counts of
    // 50 rooms: 40 ms of work, 545 ms of JIT, which the planner's row
    // estimates for the per-room subqueries switched on).
    connection: { statement_timeout: deadlineMs, application_name: 'chat-server', jit: 'off' },
  });
  // A turn per pool connection: calls wait for one in the breaker's gate, where
  // waiting is not mistaken for the database's silence (postgres.js's own
  // queue would start their deadline while they wait).
  const breaker = breakerFor(config, poolSize, () => client`select 1`, options);
  const db = drizzle(guardPostgres(client, breaker), { schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    breaker,
    ping: (timeoutMs = 2000) => pingThrough(breaker, () => client`select 1`, timeoutMs),
    close: async () => {
      breaker.stop();
      watchdog.stop();
      await client.end({ timeout: 2 });
    },
  };
}

async function openPglite(config: DatabaseConfig & { kind: 'pglite' }, options: OpenOptions): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  // Before anything touches the directory: a second process on it would corrupt it (DataDirLockedError).
  const lock = config.dir ? lockDataDir(config.dir) : null;
  let opened: InstanceType<typeof PGlite> | null = null;
  try {
    // 0700, as Postgres insists for its data directory: the files in it are the whole database.
    if (config.dir) ensurePrivateDir(config.dir);
    opened = await PGlite.create(config.dir ?? undefined);
    await migrate(drizzle(opened), { migrationsFolder });
  } catch (error) {
    await opened?.close().catch(() => {});
    lock?.release();
    throw error;
  }
  const client = opened;
  // PGlite lives in this process and cannot go away; the deadline still
  // bounds a call queued behind a slow one (it cannot interrupt a query
  // that runs: the event loop is busy with it).
  // One turn: PGlite runs one statement at a time anyway, and a call waits
  // for it in the breaker's gate rather than in PGlite's queue, where its
  // deadline would run.
  const breaker = breakerFor(config, 1, () => client.query('select 1'), options);
  const db = drizzle(guardPglite(client, breaker), { schema });
  return {
    db: db as unknown as Database,
    kind: 'pglite',
    breaker,
    ping: (timeoutMs = 2000) => pingThrough(breaker, () => client.query('select 1'), timeoutMs),
    close: async () => {
      breaker.stop();
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** The rows of `db.execute()`: postgres.js answers with the rows, PGlite with `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

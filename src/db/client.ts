import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { ensurePrivateDir } from '../data-dir.js';
import { withDeadline } from '../deadline.js';
import * as schema from './schema.js';

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

export type DatabaseConfig = { kind: 'postgres'; url: string; poolSize: number } | { kind: 'pglite'; dir: string | null };

export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: DatabaseConfig['kind'];
  /** Resolves when a trivial query answers within the deadline. */
  ping: (timeoutMs?: number) => Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));
/** Arbitrary but fixed: every instance migrating the same database takes this lock. */
const MIGRATION_LOCK_ID = 727_001;

/**
 * Opens the database and applies the committed migrations. Postgres holds an
 * advisory lock on a dedicated connection while migrating, because the
 * migrator takes none and two instances starting together would otherwise race.
 */
export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  if (config.kind === 'postgres') return openPostgres(config.url, config.poolSize);
  return openPglite(config.dir);
}

async function openPostgres(url: string, poolSize: number): Promise<DatabaseHandle> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
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
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    connect_timeout: 5,
    // postgres.js 3.4.9 reads array type oids on every new connection and drops
    // that query's promise: a session killed meanwhile became an unhandled
    // rejection (seen in test/integration/faults.test.ts), which ends a Node
    // process. No column or parameter here is a Postgres array, so skip it.
    fetch_types: false,
    // A server-side deadline: a query that runs away is cancelled by Postgres.
    connection: { statement_timeout: 15_000, application_name: 'chat-server' },
  });
  const db = drizzle(client, { schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    ping: (timeoutMs = 2000) => withDeadline(db.execute(sql`select 1`), timeoutMs, 'database').then(() => undefined),
    close: () => client.end({ timeout: 2 }),
  };
}

async function openPglite(dir: string | null): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  // 0700, as Postgres insists for its data directory: the files in it are the whole database.
  if (dir) ensurePrivateDir(dir);
  const client = await PGlite.create(dir ?? undefined);
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return {
    db: db as unknown as Database,
    kind: 'pglite',
    ping: (timeoutMs = 2000) => withDeadline(client.query('select 1'), timeoutMs, 'database').then(() => undefined),
    close: () => client.close(),
  };
}

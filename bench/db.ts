/**
 * The bench's own database: with BENCH_DATABASE_URL a database created for
 * the run (and dropped after), otherwise an embedded PGlite data directory in
 * a temp folder, seeded before the server opens it (PGlite is one process).
 * Migrated with the server directory's own migrations; users, rooms,
 * memberships and history seeded in SQL, tokens signed with the secret the
 * server is given (so seeding does not pay one scrypt per user).
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { log, onCleanup } from './harness.js';

export interface BenchDb {
  readonly kind: 'postgres' | 'pglite';
  /** postgres: the bench database's URL (for the ceiling loops). */
  readonly url: string | null;
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** The server's environment for this database. */
  serverEnv(): Record<string, string>;
  /** Hands the database to the server: PGlite must be closed first (one process at a time). */
  release(): Promise<void>;
}

export async function createBenchDb(serverDir: string): Promise<BenchDb> {
  const adminUrl = process.env.BENCH_DATABASE_URL;
  const migrationsFolder = join(serverDir, 'drizzle');
  if (adminUrl) {
    const name = `chat_bench_${randomBytes(5).toString('hex')}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const sql = postgres(url.toString(), { max: 4, onnotice: () => {}, fetch_types: false });
    onCleanup(`database ${name}`, async () => {
      await sql.end({ timeout: 2 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 2 });
    });
    const { drizzle } = await import('drizzle-orm/postgres-js');
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    await migrate(drizzle(sql), { migrationsFolder });
    log(`database ${name} created and migrated`);
    return {
      kind: 'postgres',
      url: url.toString(),
      exec: async (text) => void (await sql.unsafe(text)),
      query: async <T>(text: string) => (await sql.unsafe(text)) as unknown as T[],
      serverEnv: () => ({ DATABASE_URL: url.toString() }),
      release: async () => {},
    };
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'chat-bench-pglite-'));
  onCleanup('pglite dir', async () => rmSync(dir, { recursive: true, force: true }));
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = await PGlite.create(dir);
  let open = true;
  onCleanup('pglite', async () => {
    if (open) await client.close();
  });
  await migrate(drizzle(client), { migrationsFolder });
  log('embedded PGlite data dir created and migrated');
  const check = () => {
    if (!open) throw new Error('the PGlite database belongs to the server now');
  };
  return {
    kind: 'pglite',
    url: null,
    exec: async (text) => {
      check();
      await client.exec(text);
    },
    query: async <T>(text: string) => {
      check();
      return (await client.query<T>(text)).rows;
    },
    serverEnv: () => ({ PGLITE_DIR: dir }),
    release: async () => {
      if (open) await client.close();
      open = false;
    },
  };
}

// ---------------------------------------------------------------- seeding

const hex12 = (n: number) => n.toString(16).padStart(12, '0');
export const userId = (i: number) => `00000000-0000-4000-8000-${hex12(i)}`;
export const roomId = (i: number) => `00000001-0000-4000-8000-${hex12(i)}`;

/** A real scrypt hash in the server's format, of the password `bench-password`. */
function passwordHash(): string {
  const salt = randomBytes(16);
  const key = scryptSync('bench-password', salt, 32, { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', 16_384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

async function insertChunks(db: BenchDb, head: string, rows: string[], chunk = 2000): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) await db.exec(`${head} values ${rows.slice(i, i + chunk).join(',')}`);
}

/** Users 1..count (ids from userId(i), usernames bench_<i>). */
export async function seedUsers(db: BenchDb, count: number): Promise<string[]> {
  const hash = passwordHash();
  const ids = Array.from({ length: count }, (_, i) => userId(i + 1));
  await insertChunks(
    db,
    'insert into users (id, username, password_hash)',
    ids.map((id, i) => `('${id}', 'bench_${i + 1}', '${hash}')`),
  );
  return ids;
}

/** PUBLIC GROUP rooms, each with its members (the first one its OWNER). */
export async function seedRooms(db: BenchDb, rooms: Array<{ id: string; members: string[] }>): Promise<void> {
  await insertChunks(
    db,
    'insert into rooms (id, kind, visibility, name, created_by)',
    rooms.map((r, i) => `('${r.id}', 'GROUP', 'PUBLIC', 'bench room ${i + 1}', '${r.members[0]}')`),
  );
  await insertChunks(
    db,
    'insert into memberships (room_id, user_id, role)',
    rooms.flatMap((r) => r.members.map((m, k) => `('${r.id}', '${m}', '${k === 0 ? 'OWNER' : 'MEMBER'}')`)),
  );
}

/** `count` messages in one room, seqs 1..count, authors cycling through `authors`; rooms.last_seq set. Returns ms. */
export async function seedHistory(db: BenchDb, room: string, authors: string[], count: number): Promise<number> {
  const started = Date.now();
  const chunk = 100_000;
  const authorList = `array[${authors.map((a) => `'${a}'::uuid`).join(',')}]`;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    await db.exec(`
      insert into messages (room_id, seq, author_id, body, created_at)
      select '${room}', g, (${authorList})[1 + g % ${authors.length}],
             'history message ' || g || ': the deploy went out, lunch at noon, review the pull request ' || md5(g::text),
             now() - ((${count} - g) * interval '1 second')
      from generate_series(${from}, ${to}) g`);
    log(`history: seeded ${to}/${count} messages (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  await db.exec(`update rooms set last_seq = ${count}, last_activity_at = now() where id = '${room}'`);
  await db.exec('analyze messages');
  return Date.now() - started;
}

export async function tokensFor(ids: string[], secret: string): Promise<string[]> {
  const key = new TextEncoder().encode(secret);
  return Promise.all(
    ids.map((id) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(id)
        .setIssuedAt()
        .setExpirationTime('4h')
        .sign(key),
    ),
  );
}

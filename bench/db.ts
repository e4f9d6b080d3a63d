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

/** One room of the `unread` scenario as `myRooms` must answer it for the viewer. */
export interface UnreadRoom {
  id: string;
  lastSeq: number;
  lastReadSeq: number;
  unreadCount: number;
  unreadMentionCount: number;
  lastMessage: { id: string; seq: number } | null;
}

export interface UnreadSeed {
  /** Every user: the viewer first, the blocked author last. */
  users: string[];
  viewer: string;
  blocked: string;
  /** The viewer's rooms, most recent activity first (myRooms' order), with what the server must count. */
  rooms: UnreadRoom[];
  /** Messages by the blocked author (in the read and the unread part alike). */
  blockedMessages: number;
  /** The seeding alone, without reading the expected answer back. */
  seedMs: number;
}

/**
 * The `unread` scenario's whole data set, in one place so that a column the
 * scenario should exercise (a thread marker, a per-room counter, mention
 * rows) is added here once: `rooms` rooms with users 1..4 as members (user 1,
 * the viewer, their OWNER), `messages` messages spread evenly over them and
 * interleaved in time as rooms that are active at once would be (message g of
 * the run goes to room (g - 1) % rooms), each room's seqs 1..n. The viewer has
 * read `readFraction` of each room (memberships.last_read_seq) and blocked
 * user 4, who wrote every 100th message of each room (seq % 100 = 0). The
 * viewer's own messages are only in the read part (sending marks the room
 * read for its author); the unread part is users 2 and 3 and the blocked 4.
 * rooms.last_seq and last_activity_at match the newest message; rooms and
 * memberships are older than the first message. Every insert names its
 * columns, so new nullable or defaulted columns leave it working.
 */
export async function seedUnread(
  db: BenchDb,
  options: { rooms: number; messages: number; readFraction: number },
): Promise<UnreadSeed> {
  const { rooms: roomCount, messages: total, readFraction } = options;
  if (roomCount < 1 || total < 0 || !(readFraction >= 0 && readFraction <= 1)) {
    throw new Error('unread: --rooms must be at least 1, --messages at least 0, --read-fraction within 0..1');
  }
  const started = Date.now();
  const users = await seedUsers(db, 4);
  const [viewer, u2, u3, blocked] = users as [string, string, string, string];
  // Room i (0-based) holds the messages g with (g - 1) % roomCount = i: the first total % roomCount rooms one more.
  const plan = Array.from({ length: roomCount }, (_, i) => {
    const count = Math.floor(total / roomCount) + (i < total % roomCount ? 1 : 0);
    return { index: i, id: roomId(i + 1), count, readSeq: Math.floor(count * readFraction) };
  });
  await seedRooms(
    db,
    plan.map((r) => ({ id: r.id, members: users })),
  );
  await db.exec(`insert into user_blocks (blocker_id, blocked_id) values ('${viewer}', '${blocked}')`);

  // Message g is written `total - g` seconds before `newest`; rooms and memberships date from a minute before the first.
  const newest = new Date(started).toISOString();
  const firstAt = `timestamptz '${newest}' - ${total + 60} * interval '1 second'`;
  const planRows = `(values ${plan.map((r) => `(${r.index}, '${r.id}'::uuid, ${r.count}, ${r.readSeq})`).join(',')})`;
  const chunk = 100_000;
  for (let from = 1; from <= total; from += chunk) {
    const to = Math.min(total, from + chunk - 1);
    await db.exec(`
      insert into messages (room_id, seq, timeline_no, mention_ids, author_id, body, created_at)
      select r.id, p.seq, p.seq - (p.seq + 5) / 10,
             case when p.seq % 50 = 7 then array['${viewer}'::uuid] else '{}'::uuid[] end,
             case when p.seq % 100 = 0 then '${blocked}'::uuid
                  when p.seq > r.read_seq then (array['${u2}'::uuid, '${u3}'::uuid])[1 + p.seq % 2]
                  else (array['${viewer}'::uuid, '${u2}'::uuid, '${u3}'::uuid])[1 + p.seq % 3] end,
             'unread message ' || p.seq || ': the deploy went out, lunch at noon, review the pull request ' || md5(g::text),
             timestamptz '${newest}' - (${total} - g) * interval '1 second'
      from generate_series(${from}, ${to}) g
      cross join lateral (select (g - 1) % ${roomCount} as room_index, (g - 1) / ${roomCount} + 1 as seq) p
      join ${planRows} as r (room_index, id, n, read_seq) on r.room_index = p.room_index`);
    log(`unread: seeded ${to}/${total} messages (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  // Every tenth message (seq 5, 15, ...) is a thread reply to the message three before it (seq 2, 12, ...),
  // kept out of the timeline: timeline_no above counts the timeline messages up to each seq. Every 50th
  // (seq 7, 57, ...) mentions the viewer.
  await db.exec(`
    update messages m set thread_root_id = root.id
    from messages root
    where m.seq % 10 = 5 and root.room_id = m.room_id and root.seq = m.seq - 3`);
  await db.exec(`
    insert into threads (root_id, room_id, reply_count, last_reply_at, last_reply_seq, participant_ids)
    select thread_root_id, room_id, count(*), max(created_at), max(seq), array_agg(distinct author_id)
    from messages where thread_root_id is not null group by thread_root_id, room_id`);
  await db.exec(`
    insert into mentions (user_id, message_id, room_id, seq, author_id, thread_root_id, in_timeline)
    select '${viewer}'::uuid, id, room_id, seq, author_id, null, true
    from messages where seq % 50 = 7 and author_id <> '${viewer}'::uuid`);
  await db.exec(`
    update rooms set last_seq = r.n, timeline_count = r.n - (r.n + 5) / 10, created_at = ${firstAt},
           last_activity_at = coalesce((select m.created_at from messages m where m.room_id = rooms.id and m.seq = r.n), ${firstAt})
    from ${planRows} as r (room_index, id, n, read_seq)
    where rooms.id = r.id`);
  await db.exec(`
    update memberships set joined_at = ${firstAt},
           last_read_seq = case when memberships.user_id = '${viewer}' then r.read_seq else 0 end
    from ${planRows} as r (room_index, id, n, read_seq)
    where memberships.room_id = r.id`);
  // As autovacuum leaves a table that is mostly inserted into: statistics, and pages marked all-visible
  // (the counts past a read position are then read from indexes alone).
  await db.exec('vacuum analyze');
  const seedMs = Date.now() - started;

  // The expected answer, read back with the contract's definitions: timeline messages by others after
  // the read position, less those of users the viewer blocked; unread timeline messages mentioning the
  // viewer, not by a blocked user; the newest message whoever wrote it.
  const expected = await db.query<{
    id: string;
    last_seq: number;
    last_read_seq: number;
    unread: number;
    mentions: number;
    last_id: string | null;
    last_message_seq: number | null;
  }>(`
    select r.id, r.last_seq, mb.last_read_seq,
           (select count(*) from messages m
             where m.room_id = r.id and m.seq > mb.last_read_seq and m.author_id <> mb.user_id
               and m.thread_root_id is null
               and not exists (select 1 from user_blocks b where b.blocker_id = mb.user_id and b.blocked_id = m.author_id)
           )::int as unread,
           (select count(*) from messages m
             where m.room_id = r.id and m.seq > mb.last_read_seq and m.author_id <> mb.user_id
               and m.thread_root_id is null and mb.user_id = any(m.mention_ids)
               and not exists (select 1 from user_blocks b where b.blocker_id = mb.user_id and b.blocked_id = m.author_id)
           )::int as mentions,
           last.id as last_id, last.seq as last_message_seq
    from memberships mb
    join rooms r on r.id = mb.room_id
    left join lateral (select m.id, m.seq from messages m where m.room_id = r.id order by m.seq desc limit 1) last on true
    where mb.user_id = '${viewer}'
    order by r.last_activity_at desc, r.id desc`);
  const [{ n: blockedMessages }] = (await db.query<{ n: number }>(
    `select count(*)::int as n from messages where author_id = '${blocked}'`,
  )) as [{ n: number }];
  return {
    users,
    viewer,
    blocked,
    rooms: expected.map((row) => ({
      id: row.id,
      lastSeq: row.last_seq,
      lastReadSeq: row.last_read_seq,
      unreadCount: row.unread,
      unreadMentionCount: row.mentions,
      lastMessage: row.last_id === null ? null : { id: row.last_id, seq: row.last_message_seq! },
    })),
    blockedMessages,
    seedMs,
  };
}

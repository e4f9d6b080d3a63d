/** What every scenario shares: its context, the report it fills, the backend it runs on. */
import { randomBytes } from 'node:crypto';
import { createBenchDb, type BenchDb } from '../db.js';
import {
  loadAverage,
  log,
  onCleanup,
  rssKb,
  snapshot,
  windowBetween,
  type Generators,
  type Snapshot,
  type Window,
} from '../harness.js';
import { percentiles, type Percentiles } from '../stats.js';

export type Options = Record<string, string | number | boolean | string[]>;

export interface Ctx {
  scenario: string;
  /** The resolved options (defaults of the scenario, --quick sizes, then the command line). */
  opts: Options;
  report: Report;
  serverDir: string;
  /** Epoch ms by which the scenario must be done (the hard timeout). */
  deadline: number;
}

export const num = (ctx: Ctx, name: string): number => Number(ctx.opts[name]);
export const str = (ctx: Ctx, name: string): string => String(ctx.opts[name]);

/** Time left before the hard timeout, less a margin for reporting, in ms (at least 1 s). */
export const remaining = (ctx: Ctx, marginMs = 15_000) => Math.max(1000, ctx.deadline - Date.now() - marginMs);

/** The figures of one run: a table of rows for people, and every figure for the JSON file. */
export class Report {
  readonly rows: Array<{ part: string; figure: string; value: string }> = [];
  readonly figures: Record<string, Record<string, unknown>> = {};
  readonly notes: string[] = [];

  set(part: string, key: string, value: unknown): void {
    (this.figures[part] ??= {})[key] = value;
  }

  row(part: string, figure: string, value: string): void {
    this.rows.push({ part, figure, value });
  }

  note(text: string): void {
    this.notes.push(text);
    log(`note: ${text}`);
  }

  table(): string {
    const lines = ['| part | figure | value |', '| --- | --- | --- |'];
    for (const r of this.rows) lines.push(`| ${r.part} | ${r.figure} | ${r.value} |`);
    return lines.join('\n');
  }
}

// ---------------------------------------------------------------- formatting

export const fmtInt = (n: number | null | undefined) =>
  n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : Math.round(n).toLocaleString('en-US');
export const fmtNum = (n: number | null | undefined, digits = 2) =>
  n === null || n === undefined || !Number.isFinite(n)
    ? 'n/a'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const fmtLatency = (p: Percentiles) =>
  p.count === 0 ? 'n/a' : `${fmtNum(p.p50)} / ${fmtNum(p.p95)} / ${fmtNum(p.p99)} ms`;
export const ratio = (a: number | null, b: number | null) => (a && b ? Math.round((a / b) * 1000) / 1000 : null);

// ---------------------------------------------------------------- backend

export interface Backend {
  db: BenchDb;
  redis: boolean;
  /** The environment of a server instance: database, Redis with this run's prefix, the extra --server-env. */
  serverEnv(): Record<string, string>;
}

export async function backend(ctx: Ctx): Promise<Backend> {
  const db = await createBenchDb(ctx.serverDir);
  const redisUrl = process.env.BENCH_REDIS_URL;
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  if (redisUrl) {
    onCleanup('redis keys', async () => {
      const { Redis } = await import('ioredis');
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    });
  }
  const extra: Record<string, string> = {};
  for (const pair of (ctx.opts['server-env'] as string[] | undefined) ?? []) {
    const at = pair.indexOf('=');
    if (at > 0) extra[pair.slice(0, at)] = pair.slice(at + 1);
  }
  ctx.report.set(
    'backend',
    'database',
    db.kind === 'postgres' ? 'Postgres (BENCH_DATABASE_URL)' : 'embedded PGlite (temp PGLITE_DIR)',
  );
  ctx.report.set('backend', 'redis', redisUrl ? 'Redis (BENCH_REDIS_URL)' : 'none: in-process pub/sub');
  ctx.report.set('backend', 'serverEnv', extra);
  return {
    db,
    redis: Boolean(redisUrl),
    serverEnv: () => ({ ...db.serverEnv(), ...(redisUrl ? { REDIS_URL: redisUrl } : {}), REDIS_PREFIX: prefix, ...extra }),
  };
}

export function recordLoad(ctx: Ctx, label: string): void {
  const load = loadAverage();
  ctx.report.set('loadAverage', label, load);
  log(`${label}: load average ${load.join(' ')}`);
}

// ---------------------------------------------------------------- measured windows

/** Snapshots of the server(s), the generators and the raw server around a measured window. */
export class Meter {
  private start: Snapshot | null = null;
  constructor(private readonly pids: Record<string, number>) {}

  static of(servers: Array<{ name: string; pid: number }>, gens: Generators): Meter {
    return new Meter({ ...Object.fromEntries(servers.map((s) => [s.name, s.pid])), ...gens.pids() });
  }

  begin(): void {
    this.start = snapshot(this.pids);
  }

  end(): Window {
    return windowBetween(this.start!, snapshot(this.pids));
  }

  rss(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.pids).map(([name, pid]) => [name, rssKb(pid)]));
  }
}

/** The merged figures of every generator's collect. */
export interface Delivery {
  subs: number;
  expected: number;
  distinct: number;
  lost: number;
  duplicates: number;
  received: number;
  latency: Percentiles;
  firstRecvAt: number | null;
  lastRecvAt: number | null;
  closes: Record<string, number>;
  errorFrames: number;
  firstErrorFrame: string | null;
  /** Subscriptions the server ended inside the window. */
  endedInWindow: number;
}

export function mergeCollects(parts: any[]): Delivery {
  const sum = (k: string) => parts.reduce((n, p) => n + (p[k] as number), 0);
  const closes: Record<string, number> = {};
  for (const p of parts)
    for (const [code, n] of Object.entries(p.closes as Record<string, number>)) closes[code] = (closes[code] ?? 0) + n;
  const times = (k: string) => parts.map((p) => p[k] as number | null).filter((t): t is number => t !== null);
  return {
    subs: sum('subs'),
    expected: sum('expected'),
    distinct: sum('distinct'),
    lost: sum('lost'),
    duplicates: sum('duplicates'),
    received: sum('received'),
    latency: percentiles(...parts.map((p) => p.latencies as Float64Array)),
    firstRecvAt: times('firstRecvAt').length ? Math.min(...times('firstRecvAt')) : null,
    lastRecvAt: times('lastRecvAt').length ? Math.max(...times('lastRecvAt')) : null,
    closes,
    errorFrames: sum('errorFrames'),
    endedInWindow: sum('endedInWindow'),
    firstErrorFrame: parts.find((p) => p.firstErrorFrame)?.firstErrorFrame ?? null,
  };
}

/** Round-robin: element i goes to generator i % count. */
export function shard<T>(items: T[], count: number): T[][] {
  const out: T[][] = Array.from({ length: count }, () => []);
  items.forEach((item, i) => out[i % count]!.push(item));
  return out;
}

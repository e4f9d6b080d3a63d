/**
 * npm run bench -- <scenario> [--options]   (scenario: fanout, cluster, rooms, send, attach, webhooks, idle, history, unread, all)
 *
 * Orchestrates processes of their own on loopback: the server under test
 * (`node --import tsx src/main.ts` in --server-dir), the load generator(s)
 * (loadgen.ts) and the baselines (raw-server.ts, the database ceiling loops),
 * prints progress, then a table, and writes every figure to
 * bench/results/<scenario>-<time>.json. Embedded (PGlite, in-process pub/sub)
 * unless BENCH_DATABASE_URL / BENCH_REDIS_URL are set. bench/README.md has
 * the scenarios, the options and how each figure is computed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BENCH_DIR,
  BENCH_ROOT,
  gitFacts,
  loadAverage,
  log,
  machineFacts,
  runCleanups,
  serverLog,
  waitForQuietMachine,
} from './harness.js';
import { runAttach } from './scenarios/attach.js';
import { Report, type Ctx, type Options } from './scenarios/common.js';
import { runCluster, runFanout } from './scenarios/fanout.js';
import { runHistory } from './scenarios/history.js';
import { runIdle } from './scenarios/idle.js';
import { runRooms } from './scenarios/rooms.js';
import { runSend } from './scenarios/send.js';
import { runUnread } from './scenarios/unread.js';
import { runWebhooks } from './scenarios/webhooks.js';

interface Scenario {
  run: (ctx: Ctx) => Promise<void>;
  /** Defaults at full size, and the --quick sizes. */
  defaults: Options;
  quick: Options;
  /** Hard timeout in seconds (full size). */
  timeoutS: number;
  needs?: 'postgres' | 'postgres+redis';
}

const embedded = !process.env.BENCH_DATABASE_URL;

const SCENARIOS: Record<string, Scenario> = {
  fanout: {
    run: runFanout,
    defaults: { subscribers: 1000, messages: 300, 'send-concurrency': 4 },
    quick: { subscribers: 200, messages: 50 },
    timeoutS: 300,
  },
  cluster: {
    run: runCluster,
    defaults: { subscribers: 1000, messages: 300, 'send-concurrency': 4 },
    quick: { subscribers: 200, messages: 50 },
    timeoutS: 450,
    needs: 'postgres+redis',
  },
  rooms: {
    run: runRooms,
    defaults: { sockets: 5000, 'min-room': 5, 'max-room': 50, rate: 500, duration: 30, seed: 42, 'max-in-flight': 256 },
    quick: { sockets: 1000, rate: 200, duration: 8 },
    timeoutS: 300,
  },
  send: {
    run: runSend,
    defaults: { senders: 32, duration: 15, warmup: 3, pool: 10, mode: 'spread,hot' },
    quick: { duration: 4, warmup: 1 },
    timeoutS: 300,
  },
  attach: {
    run: runAttach,
    defaults: { senders: 32, duration: 5, warmup: 2, 'image-bytes': 2048, fields: '' },
    quick: { senders: 8, duration: 2, warmup: 1 },
    timeoutS: 300,
  },
  webhooks: {
    run: runWebhooks,
    defaults: { senders: 32, duration: 8, warmup: 2, messages: 1000, rate: 100, drain: 60, instances: 2, 'record-only': 1 },
    quick: { senders: 8, duration: 3, warmup: 1, messages: 200, drain: 30 },
    timeoutS: 300,
  },
  idle: {
    run: runIdle,
    defaults: { sockets: 10_000, rooms: 100, settle: 5 },
    quick: { sockets: 2000, rooms: 20, settle: 3 },
    timeoutS: 400,
  },
  history: {
    run: runHistory,
    defaults: { messages: embedded ? 100_000 : 1_000_000, requests: 500, pages: 200, 'page-size': 50 },
    quick: { messages: embedded ? 20_000 : 100_000, requests: 200, pages: 100 },
    timeoutS: embedded ? 600 : 900,
  },
  unread: {
    run: runUnread,
    defaults: { rooms: 50, messages: embedded ? 100_000 : 1_000_000, 'read-fraction': 0.5, requests: 500, fields: '' },
    quick: { messages: embedded ? 20_000 : 100_000, requests: 100 },
    timeoutS: embedded ? 900 : 3600,
  },
};

const COMMON: Options = { loadgens: 1, 'connect-concurrency': 100, 'body-bytes': 150, 'max-load': 0.7, 'load-wait': 60 };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'server-dir': { type: 'string' },
    quick: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    'server-env': { type: 'string', multiple: true },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...Object.fromEntries(
      [...new Set([...Object.keys(COMMON), ...Object.values(SCENARIOS).flatMap((s) => Object.keys(s.defaults))])].map((k) => [
        k,
        { type: 'string' as const },
      ]),
    ),
  },
});

const USAGE = `usage: npm run bench -- <${[...Object.keys(SCENARIOS), 'all'].join('|')}> [--quick] [--server-dir DIR] [--timeout S]
       [--loadgens N] [--server-env KEY=VALUE ...] [--max-load L --load-wait S] [scenario options]
scenario options and defaults: bench/README.md`;

const name = positionals[0];
if (values.help || !name || (name !== 'all' && !SCENARIOS[name])) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 2);
}

const serverDir = resolve(values['server-dir'] ?? BENCH_ROOT);
const outDir = resolve(values.out ?? join(BENCH_DIR, 'results'));

function resolveOptions(scenario: Scenario): Options {
  const opts: Options = { ...COMMON, ...scenario.defaults, ...(values.quick ? scenario.quick : {}) };
  for (const key of Object.keys(opts)) {
    const given = (values as Record<string, unknown>)[key];
    if (typeof given === 'string') opts[key] = typeof opts[key] === 'number' ? Number(given) : given;
  }
  opts.quick = values.quick ?? false;
  if (values['server-env']) opts['server-env'] = values['server-env'];
  return opts;
}

function missingServices(scenario: Scenario): string | null {
  if (scenario.needs === 'postgres+redis' && (!process.env.BENCH_DATABASE_URL || !process.env.BENCH_REDIS_URL)) {
    return 'needs BENCH_DATABASE_URL and BENCH_REDIS_URL';
  }
  if (scenario.needs === 'postgres' && !process.env.BENCH_DATABASE_URL) return 'needs BENCH_DATABASE_URL';
  return null;
}

/** The JSON as the repository's Prettier check wants it (result files are committed); as it is if Prettier is missing. */
async function formatted(file: string, json: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(json, { ...config, filepath: file });
  } catch {
    return json;
  }
}

/** Runs one scenario under its hard timeout; writes its table and JSON. true when it completed. */
async function runScenario(scenarioName: string): Promise<boolean> {
  const scenario = SCENARIOS[scenarioName]!;
  const opts = resolveOptions(scenario);
  const timeoutS = values.timeout ? Number(values.timeout) : scenario.timeoutS;
  const report = new Report();
  log(`${scenarioName}: starting (server dir ${serverDir}, timeout ${timeoutS} s)`);
  const loadAtStart = await waitForQuietMachine(Number(opts['max-load']), Number(opts['load-wait']));
  // The hard timeout counts from here: waiting for a quiet machine is not part of the run.
  const ctx: Ctx = { scenario: scenarioName, opts, report, serverDir, deadline: Date.now() + timeoutS * 1000 };
  const startedAt = new Date();
  let outcome: 'completed' | 'timed out' | 'failed' = 'completed';
  let error: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      scenario.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error(`hard timeout of ${timeoutS} s`), { timedOut: true })),
          timeoutS * 1000,
        );
      }),
    ]);
  } catch (e) {
    outcome = (e as { timedOut?: boolean }).timedOut ? 'timed out' : 'failed';
    error = (e as Error).stack ?? String(e);
    log(`${scenarioName}: ${outcome}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    await runCleanups();
  }
  const endedAt = new Date();
  const result = {
    scenario: scenarioName,
    outcome,
    error,
    options: opts,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    server: { dir: relative(BENCH_ROOT, serverDir) || '.', ...gitFacts(serverDir) },
    bench: gitFacts(BENCH_ROOT),
    machine: machineFacts(),
    loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
    figures: report.figures,
    serverLog: { ...serverLog },
    notes: report.notes,
    table: report.rows,
  };
  for (const [server, counts] of Object.entries(serverLog)) {
    const lines = Object.entries(counts).map(([k, n]) => `${n}× ${k}`);
    if (lines.length) report.note(`${server} logged: ${lines.join('; ')}`);
    delete serverLog[server];
  }
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${scenarioName}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, await formatted(file, JSON.stringify(result, null, 2) + '\n'));
  const commit = result.server.commit
    ? `${result.server.commit.slice(0, 10)}${result.server.dirty ? ' (dirty)' : ''}`
    : 'unknown';
  process.stdout.write(
    `\n## ${scenarioName} (${outcome}; server ${commit}; ${(endedAt.getTime() - startedAt.getTime()) / 1000} s)\n\n`,
  );
  process.stdout.write(`${report.table()}\n\n`);
  for (const note of report.notes) process.stdout.write(`- ${note}\n`);
  process.stdout.write(`results: ${file}\n\n`);
  return outcome === 'completed';
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: cleaning up`);
    void runCleanups().then(() => process.exit(130));
  });
}

const names = name === 'all' ? Object.keys(SCENARIOS) : [name];
let failures = 0;
for (const scenarioName of names) {
  const missing = missingServices(SCENARIOS[scenarioName]!);
  if (missing) {
    log(`${scenarioName}: skipped: ${missing}`);
    if (name !== 'all') failures++;
    continue;
  }
  if (!(await runScenario(scenarioName))) failures++;
}
process.exit(failures > 0 ? 1 : 0);

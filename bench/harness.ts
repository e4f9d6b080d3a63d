/**
 * Processes and measurements for the orchestrator: the server under test
 * (spawned as `node --import tsx src/main.ts`), the forked load generators
 * and raw baseline server, /proc readings (CPU ticks, RSS, machine load),
 * cleanup of everything started, and the machine/commit facts a result names.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from './rpc.js';
import { nowMs, sleep } from './stats.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const BENCH_ROOT = dirname(BENCH_DIR);

export const log = (text: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

// ---------------------------------------------------------------- cleanup

const cleanups: Array<{ name: string; run: () => Promise<void> }> = [];

/** Registers what must be undone at the end (or on timeout), newest first; returns an unregister. */
export function onCleanup(name: string, run: () => Promise<void>): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const entry = cleanups.pop()!;
    try {
      await Promise.race([entry.run(), sleep(10_000).then(() => Promise.reject(new Error('took over 10 s')))]);
    } catch (error) {
      log(`cleanup ${entry.name}: ${(error as Error).message}`);
    }
  }
}

// ---------------------------------------------------------------- /proc

let clkTck: number | null = null;
export function ticksPerSecond(): number {
  if (clkTck === null) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which sits in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / ticksPerSecond();
}

/** VmRSS of a process, in KB. */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** Busy and total jiffies of the whole machine (all cores). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = n[3]! + n[4]!;
  return { busy: total - idle, total };
}

export const loadAverage = () => os.loadavg().map((v) => Math.round(v * 100) / 100);

export interface Snapshot {
  at: number;
  cpu: Record<string, number>;
  machine: { busy: number; total: number };
}

/** CPU of the named processes and of the machine, at one instant. */
export function snapshot(pids: Record<string, number>): Snapshot {
  const cpu: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) cpu[name] = cpuMs(pid);
  return { at: nowMs(), cpu, machine: machineTicks() };
}

export interface Window {
  wallMs: number;
  /** CPU ms of each named process over the window. */
  cpuMs: Record<string, number>;
  /** Each process' CPU as a share of one core over the window, %. */
  cpuPercent: Record<string, number>;
  /** The whole machine's busy share over the window (100 % = every core busy). */
  machineBusyPercent: number;
  /** Busy time not accounted to the named processes (Postgres, Redis, other work on the machine), in cores. */
  otherCores: number;
}

export function windowBetween(a: Snapshot, b: Snapshot): Window {
  const wallMs = b.at - a.at;
  const cpu: Record<string, number> = {};
  const percent: Record<string, number> = {};
  let ours = 0;
  for (const name of Object.keys(a.cpu)) {
    cpu[name] = Math.round(b.cpu[name]! - a.cpu[name]!);
    percent[name] = Math.round((cpu[name] / wallMs) * 1000) / 10;
    ours += cpu[name];
  }
  const busy = b.machine.busy - a.machine.busy;
  const total = b.machine.total - a.machine.total;
  const busyMs = (busy * 1000) / ticksPerSecond();
  return {
    wallMs: Math.round(wallMs),
    cpuMs: cpu,
    cpuPercent: percent,
    machineBusyPercent: total > 0 ? Math.round((busy / total) * 1000) / 10 : 0,
    otherCores: Math.round(((busyMs - ours) / wallMs) * 100) / 100 || 0,
  };
}

/**
 * Waits (up to maxWaitS) until the machine is quiet: the 1-minute load
 * average below maxLoad, or the whole machine at least 90 % idle over the last
 * 10 s (the load average lags: after a previous run it stays up for minutes).
 * Returns what it saw last.
 */
export async function waitForQuietMachine(
  maxLoad: number,
  maxWaitS: number,
): Promise<{ loadAverage: number[]; busyPercent: number; waitedS: number }> {
  const started = Date.now();
  for (;;) {
    const before = machineTicks();
    await sleep(10_000);
    const after = machineTicks();
    const busyPercent = Math.round(((after.busy - before.busy) / Math.max(1, after.total - before.total)) * 1000) / 10;
    const load = loadAverage();
    const waitedS = Math.round((Date.now() - started) / 1000);
    if (load[0]! < maxLoad || busyPercent < 10 || waitedS >= maxWaitS) {
      log(`machine: load average ${load.join(' ')}, ${busyPercent} % busy over the last 10 s (waited ${waitedS} s)`);
      return { loadAverage: load, busyPercent, waitedS };
    }
    log(`machine busy: load average ${load.join(' ')}, ${busyPercent} % busy over 10 s: waiting (${waitedS}/${maxWaitS} s)`);
  }
}

// ---------------------------------------------------------------- facts

export function machineFacts() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    totalMemoryMB: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    clockTicksPerSecond: ticksPerSecond(),
  };
}

export function gitFacts(dir: string) {
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
  try {
    return {
      commit: git('rev-parse', 'HEAD'),
      subject: git('log', '-1', '--format=%s'),
      // Tracked files changed (untracked ones, such as a node_modules link, do not count).
      dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    };
  } catch {
    return { commit: null, subject: null, dirty: null };
  }
}

// ---------------------------------------------------------------- the server under test

export interface ServerProc {
  name: string;
  pid: number;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/** What each server instance logged on stderr (at LOG_LEVEL=warn), by level, message and type: count. */
export const serverLog: Record<string, Record<string, number>> = {};

export const JWT_SECRET = `bench-${randomBytes(24).toString('hex')}`;

/**
 * The abuse limits raised out of the way: the bench measures throughput from
 * a few users and one IP, which the contract's defaults (100 sends per 10 s
 * per user, 20 registrations per IP per hour, …) would refuse. `--server-env`
 * overrides any of them.
 */
const UNLIMITED: Record<string, string> = {
  RATE_LIMIT_SEND: '1000000000/1s',
  RATE_LIMIT_LOGIN_USER: '1000000000/1s',
  RATE_LIMIT_LOGIN_IP: '1000000000/1s',
  RATE_LIMIT_REGISTER_IP: '1000000000/1s',
  RATE_LIMIT_WS_MESSAGES: '1000000000/1s',
  RATE_LIMIT_USER_SEARCH: '1000000000/1s',
  RATE_LIMIT_EDIT: '1000000000/1s',
  RATE_LIMIT_REACT: '1000000000/1s',
  RATE_LIMIT_TYPING: '1000000000/1s',
  RATE_LIMIT_READ: '1000000000/1s',
  RATE_LIMIT_ROOMS: '1000000000/1s',
  RATE_LIMIT_REFRESH: '1000000000/1s',
  RATE_LIMIT_LOGIN_SUCCESS: '1000000000/1s',
  RATE_LIMIT_SEARCH: '1000000000/1s',
  MAX_SUBSCRIPTIONS_PER_SOCKET: '1000000',
  MAX_SOCKETS_PER_USER: '1000000',
  MAX_PENDING_SOCKETS_PER_IP: '1000000',
};

/** Variables of the parent that would change what the server under test connects to. */
const SCRUBBED = ['DATABASE_URL', 'DATABASE_POOL_SIZE', 'PGLITE_DIR', 'REDIS_URL', 'REDIS_PREFIX', 'JWT_SECRET', 'PORT', 'HOST'];

/**
 * Starts `node --import tsx src/main.ts` in serverDir (one process: SIGTERM
 * reaches the server itself) and waits for its ready line on stdout.
 */
export async function startServer(options: {
  name: string;
  serverDir: string;
  env: Record<string, string>;
  timeoutMs?: number;
}): Promise<ServerProc> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of SCRUBBED) delete env[key];
  Object.assign(env, UNLIMITED, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', JWT_SECRET }, options.env);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: options.serverDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderrTail: string[] = [];
  const counts: Record<string, number> = (serverLog[options.name] = {});
  let shown = 0;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      let key = line.slice(0, 120);
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string; type?: string };
        key = [entry.level, entry.msg, entry.type].filter(Boolean).join(': ');
      } catch {
        // not a JSON log line: counted by its start
      }
      counts[key] = (counts[key] ?? 0) + 1;
      if (shown++ < 5) log(`[${options.name}] ${line.slice(0, 300)}`);
      else if (shown === 6) log(`[${options.name}] further log lines are only counted (in the results file)`);
    }
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    await exit;
    clearTimeout(timer);
  };
  const unregister = onCleanup(`server ${options.name}`, stop);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${options.name} was not ready in time:\n${stderrTail.join('\n')}`)),
      options.timeoutMs ?? 60_000,
    );
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const match = /Chat server ready at (http:\/\/\S+)\/graphql/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited before it was ready:\n${stderrTail.join('\n')}`));
    });
  });
  return {
    name: options.name,
    pid: child.pid!,
    url: `${url}/graphql`,
    wsUrl: `${url.replace(/^http/, 'ws')}/graphql`,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

// ---------------------------------------------------------------- children

export async function startChild(name: string, module: string): Promise<Child> {
  const child = new Child(name, join(BENCH_DIR, module), { cwd: BENCH_ROOT, onProgress: (text) => log(`  ${text}`) });
  onCleanup(name, () => child.stop());
  return child.ready();
}

/** The load generator processes; generator 0 also sends. */
export class Generators {
  constructor(readonly children: Child[]) {}

  static async start(count: number): Promise<Generators> {
    return new Generators(await Promise.all(Array.from({ length: count }, (_, i) => startChild(`loadgen-${i}`, 'loadgen.ts'))));
  }

  get first(): Child {
    return this.children[0]!;
  }

  pids(): Record<string, number> {
    return Object.fromEntries(this.children.map((c) => [c.name, c.pid]));
  }

  all<T = any>(cmd: string, args: (index: number) => unknown, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.children.map((c, i) => c.call<T>(cmd, args(i), timeoutMs)));
  }
}

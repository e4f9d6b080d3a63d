import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { App } from './server.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `npm start`'s command line (`node --import tsx src/main.ts`), runnable from
 * any directory: tsx's loader by path, since a temporary cwd has no node_modules.
 */
export const sourceStart = [
  '--import',
  pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href,
  join(root, 'src/main.ts'),
];

/** The variables a fresh clone has none of, so the embedded defaults apply. */
const UNSET = ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'PGLITE_DIR', 'PORT'];

export interface Started {
  child: ChildProcess;
  app: App;
  exited: Promise<number | null>;
  stderr: () => string;
  stdout: () => string;
  /** Resolves once stderr matches `pattern` (already or later); rejects after timeoutMs. */
  stderrMatching: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
}

/**
 * Spawns a server process on PORT=0 and resolves once it prints its ready
 * line (the first line of the banner main.ts writes to stdout), with the URL it names.
 */
export function startProcess(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Started> {
  const child = spawnServer(command, args, cwd, env);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr!.on('data', (d) => (stderr += d));
  const stderrMatching = (pattern: RegExp, timeoutMs = 5000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(stderr)) return;
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolve();
      };
      const timer = setTimeout(() => {
        child.stderr!.off('data', check);
        reject(new Error(`stderr never matched ${pattern}: ${stderr}`));
      }, timeoutMs);
      child.stderr!.on('data', check);
      check();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d) => {
      stdout += d;
      const match = /ready at (http:\/\/\S+)\/graphql/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        const url = match[1]!;
        const app = { url, port: Number(new URL(url).port) } as unknown as App;
        resolve({ child, app, exited, stderr: () => stderr, stdout: () => stdout, stderrMatching });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready: ${stderr}`));
    });
  });
}

/** A server process on the embedded defaults (PORT=0 on loopback, LOG_LEVEL=info unless `env` says otherwise). */
function spawnServer(command: string, args: string[], cwd: string, env: Record<string, string>): ChildProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !UNSET.includes(k)));
  return spawn(command, args, {
    cwd,
    env: { ...clean, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Spawns a server that is expected to refuse to start, and resolves with its exit code and output once it exits. */
export function runUntilExit(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnServer(command, args, cwd, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** What `npm start` runs first (its prestart): builds web/ into web/dist when the build is missing or stale. */
export function ensureWebBuild(): void {
  execFileSync(process.execPath, [join(root, 'scripts/build-web.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
}

import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';

/**
 * Creates `dir` (and missing parents) with mode 0700, and takes group and
 * other access off one that exists: what the server keeps on disk (the
 * embedded database, the development secret) is nobody else's to read.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** A second process (or a second open in this one) found the data directory's lock held. */
export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';

  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    const shown = relative(process.cwd(), dir) || dir;
    const holder = pid === process.pid ? 'this process' : `process ${pid}`;
    super(
      `the data directory ${shown.startsWith('..') ? dir : shown} is in use by ${holder} (another chat server?): ` +
        'stop that one first, or set PGLITE_DIR to another directory',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** Removes the lock file if it is still this process's. */
  release(): void;
}

/** Paths this process holds: a second open of the same directory here is refused too. */
const held = new Set<string>();

/**
 * Takes the lock of an embedded database's directory before anything opens
 * it: `<dir>.lock` beside it (not inside, which PGlite owns), created
 * exclusively and holding this process's pid. Two PGlite instances on one
 * directory corrupt it, so a lock whose process lives is refused with
 * DataDirLockedError. A lock whose process is gone (a crash, SIGKILL) is
 * stale and taken over; so is one naming this very pid while this process
 * holds no such lock (a restarted container gets the pid it had before).
 * Two processes breaking the same stale lock in the same instant could both
 * win; starting two servers on one directory at once after a crash is left
 * at that.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = `${dir}.lock`;
  // The parent only: its mode is left alone (it may be a home directory); the data directory gets 0700 later.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (held.has(path)) throw new DataDirLockedError(dir, process.pid);
    if (createWithPid(path)) {
      held.add(path);
      return {
        release() {
          if (!held.delete(path)) return;
          if (holderOf(path) === process.pid) rmSync(path, { force: true });
        },
      };
    }
    const pid = holderOf(path);
    if (pid !== null && pid !== process.pid && alive(pid)) throw new DataDirLockedError(dir, pid);
    rmSync(path, { force: true }); // stale: its process is gone, or the file is no lock of ours
  }
  throw new Error(`could not take the lock ${path}: it keeps coming back`);
}

/**
 * Creates `path` holding this pid, or returns false when it exists. Written
 * to a file of its own and linked into place, so nobody ever reads a lock
 * that exists but is still empty.
 */
function createWithPid(path: string): boolean {
  const temporary = `${path}.${process.pid}`;
  writeFileSync(temporary, `${process.pid}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
  // A file system without hard links: created exclusively, then written (a reader may see it empty for an instant).
  try {
    writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The pid a lock file names; null when it cannot be read as one. */
function holderOf(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Whether a process with this id exists (signal 0 only checks; EPERM: it exists, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

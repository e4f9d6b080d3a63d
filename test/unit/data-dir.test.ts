import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/data-dir.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dataDir = () => {
  const parent = mkdtempSync(join(tmpdir(), 'chat-lock-'));
  dirs.push(parent);
  return join(parent, '.data/pglite');
};

/** The pid of a process that has exited: nothing runs under it any more (as far as the test can tell). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid;

describe('lockDataDir', () => {
  it('writes <dir>.lock with this pid, refuses a second lock on the same directory, and removes it when released', () => {
    const dir = dataDir();
    const lock = lockDataDir(dir);
    expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.pid));
    expect(existsSync(dir)).toBe(false); // the lock comes before anything touches the directory
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    lock.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    lockDataDir(dir).release();
  });

  it('refuses a lock held by another live process, naming its pid', () => {
    const dir = dataDir();
    lockDataDir(dir).release();
    writeFileSync(`${dir}.lock`, `${process.ppid}\n`);
    const error = (() => {
      try {
        lockDataDir(dir);
      } catch (caught) {
        return caught as DataDirLockedError;
      }
      throw new Error('the lock was taken');
    })();
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect(error.pid).toBe(process.ppid);
    expect(error.message).toContain(`in use by process ${process.ppid}`);
    expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.ppid));
  });

  it('takes over a stale lock: its process is gone, it names this pid without this process holding it, or it is garbage', () => {
    const dir = dataDir();
    lockDataDir(dir).release();
    for (const stale of [String(deadPid()), String(process.pid), 'not a pid', '']) {
      writeFileSync(`${dir}.lock`, stale);
      const lock = lockDataDir(dir);
      expect(readFileSync(`${dir}.lock`, 'utf8').trim(), stale).toBe(String(process.pid));
      lock.release();
    }
  });

  it('leaves a lock that another process took meanwhile when released', () => {
    const dir = dataDir();
    const lock = lockDataDir(dir);
    writeFileSync(`${dir}.lock`, `${process.ppid}\n`);
    lock.release();
    expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.ppid));
  });
});

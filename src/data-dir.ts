import { chmodSync, mkdirSync, statSync } from 'node:fs';

/**
 * Creates `dir` (and missing parents) with mode 0700, and takes group and
 * other access off one that exists: what the server keeps on disk (the
 * embedded database, the development secret) is nobody else's to read.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

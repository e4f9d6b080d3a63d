// Builds the browser client (web/) into web/dist with Vite: `npm run build:web`.
// With --if-stale (npm install and npm start run it so) it builds only when
// web/dist is missing or older than the client's sources or the kit, and when
// Vite is not installed (a production install without dev dependencies) it
// says so and leaves the build that is there.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'web/dist/index.html');
const sources = ['web/index.html', 'web/vite.config.ts', 'web/src', 'client', 'package-lock.json'];

/** Built output (the kit's client/dist) is not a source: building the kit does not make the web build stale. */
const BUILT = new Set(['dist', 'node_modules']);

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  const names = readdirSync(path).filter((name) => !BUILT.has(name));
  return Math.max(0, ...names.map((name) => newest(join(path, name))));
}

if (process.argv.includes('--if-stale') && existsSync(out)) {
  const built = statSync(out).mtimeMs;
  const changed = Math.max(
    ...sources
      .map((s) => join(root, s))
      .filter(existsSync)
      .map(newest),
  );
  if (changed <= built) process.exit(0);
}

let vite;
try {
  vite = await import('vite');
} catch {
  const note = existsSync(out) ? 'serving the build that is there' : '/ will say how to build it';
  console.warn(`web client: vite is not installed (dev dependencies omitted?); ${note}`);
  process.exit(0);
}
const started = Date.now();
// Built beside web/dist and swapped in at once, so a server starting meanwhile
// (a test, a second build) never reads half a build.
const target = join(root, 'web/dist');
const staging = join(root, `web/.dist-${process.pid}`);
const retired = join(root, `web/.dist-old-${process.pid}`);
try {
  await vite.build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir: staging } });
  try {
    renameSync(target, retired);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  try {
    renameSync(staging, target);
  } catch (error) {
    // Another build swapped its own in between: the same sources, so the same files.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
  rmSync(retired, { recursive: true, force: true });
}
console.log(`web client built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);

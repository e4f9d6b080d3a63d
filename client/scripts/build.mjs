// Builds the kit into client/dist: `npm run build` here or at the root, and
// `npm pack` (prepack).
//   dist/esm  tsc: ES modules and their declarations (tsconfig.build.json)
//   dist/cjs  the same modules turned into CommonJS by esbuild, with the same
//             declarations under a {"type":"commonjs"} package.json, so Node
//             and TypeScript read both as CommonJS
// The build is made in a temporary directory and copied in file by file, each
// file written beside its place and renamed over it, and unchanged files left
// alone: a pack or a test reading dist/ while another build runs (the root's
// `npm run build` in a test, say) never sees a half-written or missing file.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const kit = fileURLToPath(new URL('..', import.meta.url));
const dist = join(kit, 'dist');
const require = createRequire(import.meta.url);

/** Every file under dir, as paths relative to it. */
function files(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path, base) : [relative(base, path)];
  });
}

function sameContent(a, b) {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

const started = Date.now();
const staging = mkdtempSync(join(tmpdir(), 'chat-client-build-'));
try {
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(kit, 'tsconfig.build.json'), '--outDir', join(staging, 'esm')],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status})`);

  const esm = files(join(staging, 'esm'));
  const { build } = await import('esbuild');
  await build({
    entryPoints: esm.filter((f) => f.endsWith('.js')).map((f) => join(staging, 'esm', f)),
    outbase: join(staging, 'esm'),
    outdir: join(staging, 'cjs'),
    format: 'cjs',
    platform: 'neutral',
    target: 'es2022',
    bundle: false,
    logLevel: 'warning',
  });
  for (const declaration of esm.filter((f) => f.endsWith('.d.ts'))) {
    mkdirSync(dirname(join(staging, 'cjs', declaration)), { recursive: true });
    copyFileSync(join(staging, 'esm', declaration), join(staging, 'cjs', declaration));
  }
  writeFileSync(join(staging, 'cjs/package.json'), '{ "type": "commonjs" }\n');

  const built = new Set(files(staging));
  for (const file of built) {
    const target = join(dist, file);
    if (sameContent(join(staging, file), target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    const next = `${target}.${process.pid}.tmp`;
    copyFileSync(join(staging, file), next);
    renameSync(next, target);
  }
  // What an older build left that this one no longer makes.
  for (const file of files(dist)) if (!built.has(file) && !file.endsWith('.tmp')) rmSync(join(dist, file), { force: true });
} finally {
  rmSync(staging, { recursive: true, force: true });
}
console.log(`client kit built into client/dist in ${Date.now() - started} ms`);

// Builds what the server serves to browsers, compressed once here (brotli and
// gzip copies beside each file, which the server picks by Accept-Encoding):
// - the browser client (web/) into web/dist with Vite: `npm run build:web`.
//   With --if-stale (npm install and npm start run it so) it builds only when
//   web/dist is missing or older than the client's sources or the kit, and
//   when Vite is not installed (a production install without dev
//   dependencies) it says so and leaves the build that is there;
// - the compressed copies of GraphiQL's files into web/dist-graphiql, when the
//   installed GraphiQL, graphql-ws or the page's script (web/graphiql/) changed.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** What is worth compressing: text, and icons (mostly uncompressed bitmaps). */
const COMPRESSIBLE = /\.(html|js|css|svg|json|map|txt|ico)$/;
const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Brotli at its best (slow, but once per build) and gzip at its best; each kept only when it saves a tenth. */
async function compress(path) {
  const body = readFileSync(path);
  if (body.length < 256) return;
  const [br, gz] = await Promise.all([
    brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    gzipped(body, { level: 9 }),
  ]);
  if (br.length < body.length * 0.9) writeFileSync(`${path}.br`, br);
  if (gz.length < body.length * 0.9) writeFileSync(`${path}.gz`, gz);
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Built output (the kit's client/dist) is not a source: building the kit does not make the web build stale. */
const BUILT = new Set(['dist', 'node_modules']);

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  const names = readdirSync(path).filter((name) => !BUILT.has(name));
  return Math.max(0, ...names.map((name) => newest(join(path, name))));
}

/**
 * GraphiQL's files as the server names them (src/transport/graphiql-assets.ts, loaded through tsx, a
 * dependency), compressed into web/dist-graphiql as `<name>.br` and `<name>.gz`. A stamp of what they were
 * made from skips the work (and loading 9 MB of GraphiQL) when nothing changed.
 */
async function buildGraphiQL() {
  const out = join(root, 'web/dist-graphiql');
  const version = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  const page = join(root, 'web/graphiql');
  const stamp = JSON.stringify({
    graphiql: version('@graphql-yoga/render-graphiql'),
    graphqlWs: version('graphql-ws'),
    page: [...walk(page)].map((path) => `${path}:${statSync(path).size}:${statSync(path).mtimeMs}`),
  });
  const stampFile = join(out, '.stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  const started = Date.now();
  const { tsImport } = await import('tsx/esm/api');
  const { assetList, graphiqlAssets } = await tsImport('../src/transport/graphiql-assets.ts', import.meta.url);
  const assets = assetList(await graphiqlAssets());
  mkdirSync(out, { recursive: true });
  const wanted = new Set(assets.flatMap((asset) => [`${asset.name}.br`, `${asset.name}.gz`]));
  for (const name of readdirSync(out)) if (!wanted.has(name)) rmSync(join(out, name), { force: true });
  // Written under a temporary name and compressed there, then renamed: a server starting meanwhile sees whole files.
  await Promise.all(
    assets.map(async ({ name, body }) => {
      if (existsSync(join(out, `${name}.br`)) && existsSync(join(out, `${name}.gz`))) return;
      const temporary = join(out, `.${process.pid}.${name}`);
      writeFileSync(temporary, body);
      await compress(temporary);
      for (const suffix of ['.br', '.gz']) {
        if (existsSync(temporary + suffix)) renameSync(temporary + suffix, join(out, name + suffix));
      }
      rmSync(temporary, { force: true });
    }),
  );
  writeFileSync(stampFile, stamp);
  console.log(`GraphiQL compressed into web/dist-graphiql in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function buildWebClient() {
  const out = join(root, 'web/dist/index.html');
  const sources = ['web/index.html', 'web/vite.config.ts', 'web/src', 'client', 'package-lock.json'];
  if (process.argv.includes('--if-stale') && existsSync(out)) {
    const built = statSync(out).mtimeMs;
    const changed = Math.max(
      ...sources
        .map((s) => join(root, s))
        .filter(existsSync)
        .map(newest),
    );
    if (changed <= built) return;
  }

  let vite;
  try {
    vite = await import('vite');
  } catch {
    const note = existsSync(out) ? 'serving the build that is there' : '/ will say how to build it';
    console.warn(`web client: vite is not installed (dev dependencies omitted?); ${note}`);
    return;
  }
  const started = Date.now();
  // Built beside web/dist and swapped in at once, so a server starting meanwhile
  // (a test, a second build) never reads half a build.
  const target = join(root, 'web/dist');
  const staging = join(root, `web/.dist-${process.pid}`);
  const retired = join(root, `web/.dist-old-${process.pid}`);
  try {
    await vite.build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir: staging } });
    await Promise.all([...walk(staging)].filter((path) => COMPRESSIBLE.test(path)).map(compress));
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
}

await buildGraphiQL();
await buildWebClient();

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_WEB_DIR } from '../../src/transport/transport.config.js';
import { testAttachments } from '../support/config.js';
import { rawGet } from '../support/raw-http.js';
import { forEachBackend } from '../support/suite.js';

/** A build as Vite writes one: index.html and content-hashed assets. */
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-web-dist-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>');
  writeFileSync(join(dir, 'assets/index-abc123.js'), 'console.log("chat")');
  writeFileSync(join(dir, 'assets/index-def456.css'), 'body{}');
  return dir;
}

/** GET with the path exactly as given. */
function rawStatus(url: string, path: string): Promise<number | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    get({ hostname, port, path }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

forEachBackend('Browser client files at /', (s) => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('serves index.html at / with a same-origin content policy, revalidated on every load (304 by ETag)', async () => {
    const dir = fakeBuild();
    dirs.push(dir);
    const app = await s.backend.startApp({ webDir: dir });
    const page = await fetch(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const policy = page.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("worker-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('/assets/index-abc123.js');
    const again = await fetch(`${app.url}/`, { headers: { 'if-none-match': page.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${app.url}/index.html?v=1`)).status).toBe(200);
    const head = await fetch(`${app.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it("allows the attachments' S3 origin in the page's policy for images, media and uploads, and no other", async () => {
    const dir = fakeBuild();
    dirs.push(dir);
    const storage = {
      kind: 's3' as const,
      endpoint: 'https://files.example.net',
      bucket: 'chat',
      region: 'us-east-1',
      accessKeyId: 'key',
      secretAccessKey: 'secret',
      forcePathStyle: true,
    };
    const app = await s.backend.startApp({ webDir: dir, attachments: testAttachments({ storage }) });
    const policy = (await fetch(`${app.url}/`)).headers.get('content-security-policy')!;
    expect(policy).toContain("img-src 'self' data: blob: https://files.example.net;");
    expect(policy).toContain("media-src 'self' blob: https://files.example.net;");
    expect(policy).toContain("connect-src 'self' https://files.example.net;");
    expect(policy).toContain("script-src 'self';");
    // On the embedded storage the files are this server's, at the origin its URLs name (the page may be
    // opened at another name of it: 127.0.0.1 where they say localhost).
    const embedded = await s.backend.startApp({ webDir: dir });
    expect((await fetch(`${embedded.url}/`)).headers.get('content-security-policy')).toContain(
      `connect-src 'self' ${embedded.url};`,
    );
  });

  it('serves the service worker at /sw.js as a script, revalidated on every load (a new build takes over at once)', async () => {
    const dir = fakeBuild();
    dirs.push(dir);
    writeFileSync(join(dir, 'sw.js'), 'self.addEventListener("push", () => {})');
    const app = await s.backend.startApp({ webDir: dir });
    const worker = await fetch(`${app.url}/sw.js`);
    expect(worker.status).toBe(200);
    expect(worker.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(worker.headers.get('cache-control')).toBe('no-cache');
    expect(worker.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await worker.text()).toContain('"push"');
  });

  it('serves hashed assets as immutable with their types, and nothing outside the build', async () => {
    const dir = fakeBuild();
    dirs.push(dir);
    const app = await s.backend.startApp({ webDir: dir });
    const script = await fetch(`${app.url}/assets/index-abc123.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toBe('console.log("chat")');
    expect((await fetch(`${app.url}/assets/index-def456.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    // Paths that are not a file of the build fall through to the API's 404, whatever they spell
    // (sent as written: fetch would normalise the dots away).
    for (const path of [
      '/assets/missing.js',
      '/assets/../../package.json',
      '/assets/..%2f..%2fpackage.json',
      '/../package.json',
      '//etc/passwd',
    ]) {
      expect(await rawStatus(app.url, path), path).toBe(404);
    }
    // Only GET and HEAD; GraphQL stays where it is.
    expect((await fetch(`${app.url}/`, { method: 'POST', body: '{}' })).status).toBe(404);
    const graphql = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await graphql.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('serves the brotli or gzip copy the build wrote by Accept-Encoding, with Vary and an ETag of each copy', async () => {
    const dir = fakeBuild();
    dirs.push(dir);
    const script = Buffer.from(`console.log(${JSON.stringify('chat '.repeat(2000))});`);
    writeFileSync(join(dir, 'assets/index-abc123.js'), script);
    writeFileSync(join(dir, 'assets/index-abc123.js.br'), brotliCompressSync(script));
    writeFileSync(join(dir, 'assets/index-abc123.js.gz'), gzipSync(script));
    const app = await s.backend.startApp({ webDir: dir });
    const url = `${app.url}/assets/index-abc123.js`;

    const br = await rawGet(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(script.length / 10);
    const gzip = await rawGet(url, { 'accept-encoding': 'gzip;q=1, br;q=0.5' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    const plain = await rawGet(url, { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.body.equals(script)).toBe(true);
    expect(new Set([br.headers.etag, gzip.headers.etag, plain.headers.etag]).size).toBe(3);
    // A cache revalidating what it holds gets 304 for that copy.
    expect((await rawGet(url, { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! })).status).toBe(304);
    expect((await rawGet(url, { 'accept-encoding': 'gzip', 'if-none-match': br.headers.etag! })).status).toBe(200);
    // A file without copies (the 6-byte stylesheet) goes as it is, with no Vary.
    const css = await rawGet(`${app.url}/assets/index-def456.css`, { 'accept-encoding': 'br' });
    expect(css.headers['content-encoding']).toBeUndefined();
    expect(css.headers.vary).toBeUndefined();
  });

  it('says how to build the client when the build is missing (503), and serves no / at all with WEB_DIR=off', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'chat-web-empty-'));
    dirs.push(empty);
    const unbuilt = await s.backend.startApp({ webDir: empty });
    const page = await fetch(`${unbuilt.url}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('npm run build:web');
    const off = await s.backend.startApp({ webDir: null });
    expect((await fetch(`${off.url}/`)).status).toBe(404);
  });
});

it('WEB_DIR: web/dist of the checkout by default, a path relative to the working directory, or off', () => {
  const base = { JWT_SECRET: 'x'.repeat(40) };
  expect(loadConfig(base, '/srv/chat').config.webDir).toBe(DEFAULT_WEB_DIR);
  expect(DEFAULT_WEB_DIR.endsWith(join('web', 'dist'))).toBe(true);
  expect(loadConfig({ ...base, WEB_DIR: 'public' }, '/srv/chat').config.webDir).toBe('/srv/chat/public');
  expect(loadConfig({ ...base, WEB_DIR: 'off' }, '/srv/chat').config.webDir).toBeNull();
});

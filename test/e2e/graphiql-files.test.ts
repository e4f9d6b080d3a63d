import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/config.js';
import { rawGet } from '../support/raw-http.js';
import { createApp, type App } from '../support/server.js';
import { ensureWebBuild } from '../support/spawned.js';

/**
 * GraphiQL as a browser gets it: a page of a few KB, and yoga's GraphiQL
 * (about 9 MB of script, style and workers) as files named by their content,
 * compressed once by the build (npm install runs it).
 */
describe("GraphiQL's page and files over HTTP", () => {
  let app: App;
  beforeAll(async () => {
    ensureWebBuild(); // the compressed copies in web/dist-graphiql, when missing or stale
    app = createApp(testConfig());
    await app.start();
  }, 120_000);
  afterAll(() => app.stop());

  const page = () => rawGet(`${app.url}/graphql`, { accept: 'text/html', 'accept-encoding': 'br, gzip' });

  it('serves a page of a few KB, compressed, kept by the browser and revalidated by its ETag (304)', async () => {
    const first = await page();
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(first.headers['content-encoding']).toBe('br');
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(first.headers.vary).toBe('Accept-Encoding');
    expect(first.body.length).toBeLessThan(3000);
    const identity = await rawGet(`${app.url}/graphql?query=%7B__typename%7D`, { accept: 'text/html' });
    expect(identity.body.length).toBeLessThan(8000);
    expect(identity.headers['content-security-policy']).toContain("script-src 'self'");
    const again = await rawGet(`${app.url}/graphql`, {
      accept: 'text/html',
      'accept-encoding': 'br, gzip',
      'if-none-match': first.headers.etag!,
    });
    expect(again.status).toBe(304);
  });

  it('names its files by content, immutable for a year, each sent brotli-compressed: together under a quarter of their size', async () => {
    const html = (await rawGet(`${app.url}/graphql`, { accept: 'text/html' })).body.toString();
    const settings = JSON.parse(/<script id="graphiql-settings" type="application\/json">(.*?)<\/script>/.exec(html)![1]!);
    const paths = [
      ...[...html.matchAll(/(?:src|href)="(\/graphiql\/[^"]+)"/g)].map((m) => m[1]!),
      ...Object.values<string>(settings.workers),
    ];
    expect(paths.length).toBe(8); // script, style, favicon, graphql-ws, the page's script, three workers
    let identity = 0;
    let brotli = 0;
    for (const path of new Set(paths)) {
      expect(path).toMatch(/^\/graphiql\/[\w.-]+\.[0-9a-f]{10}\.(js|css|ico)$/);
      const plain = await rawGet(`${app.url}${path}`, { 'accept-encoding': 'identity' });
      const br = await rawGet(`${app.url}${path}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(br.status, path).toBe(200);
      expect(br.headers['content-encoding'], path).toBe('br');
      expect(br.headers['cache-control'], path).toBe('public, max-age=31536000, immutable');
      expect(br.headers.vary, path).toBe('Accept-Encoding');
      const gzip = await rawGet(`${app.url}${path}`, { 'accept-encoding': 'gzip' });
      expect(gzip.headers['content-encoding'], path).toBe('gzip');
      identity += plain.body.length;
      brotli += br.body.length;
    }
    expect(identity).toBeGreaterThan(5_000_000);
    expect(brotli).toBeLessThan(identity / 4);
  });
});

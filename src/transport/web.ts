import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../logger.js';

/** The browser client's files (web/dist, built by `npm run build:web`), served at `/`. */
export interface WebClient {
  /** Answers a GET or HEAD for one of its paths and returns true; false leaves the request to the next route. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

interface File {
  body: Buffer;
  type: string;
  etag: string;
  /** Vite's content-hashed assets never change under one name. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The page talks only to its own origin (HTTP and WebSocket) and runs only its own scripts. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Chat</title>
<p>The browser client is not built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it when it is missing or stale), then reload.</p>
<p>The API is at <a href="/graphql">/graphql</a>.</p>\n`;

/**
 * Every file under `dir`, read once at start and kept in memory (the client is
 * a few hundred KB). Only those exact paths are served, so no request path can
 * reach outside the build. `dir` without an index.html: `/` answers 503 with
 * how to build it. null: no browser client at all (`WEB_DIR=off`).
 */
export function loadWebClient(dir: string | null, logger: Logger): WebClient | null {
  if (dir === null) return null;
  const files = new Map<string, File>();
  if (existsSync(join(dir, 'index.html'))) {
    for (const path of walk(dir)) {
      const urlPath = '/' + relative(dir, path).split(sep).join('/');
      const body = readFileSync(path);
      const dot = urlPath.lastIndexOf('.');
      files.set(urlPath, {
        body,
        type: TYPES[urlPath.slice(dot)] ?? 'application/octet-stream',
        etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`,
        immutable: urlPath.startsWith('/assets/'),
      });
    }
  } else {
    logger.warn('the browser client is not built; / explains how to build it', { dir });
  }
  const index = files.get('/index.html');
  return {
    serve(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/' || path === '/index.html') {
        if (!index) {
          res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...PAGE_HEADERS });
          res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
          return true;
        }
        send(req, res, index, PAGE_HEADERS);
        return true;
      }
      const file = files.get(path);
      if (!file) return false;
      send(req, res, file, { 'x-content-type-options': 'nosniff' });
      return true;
    },
  };
}

function send(req: IncomingMessage, res: ServerResponse, file: File, headers: Record<string, string>): void {
  const common = {
    ...headers,
    etag: file.etag,
    // The page is revalidated on every load so a new build shows at once; hashed assets are kept for good.
    'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, { ...common, 'content-type': file.type, 'content-length': file.body.length });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

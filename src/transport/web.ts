import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../logger.js';
import { contentTypeOf, IMMUTABLE, REVALIDATE, sendStatic, staticFile, type StaticFile } from './static-files.js';

/** The browser client's files (web/dist, built by `npm run build:web`), served at `/`. */
export interface WebClient {
  /** Answers a GET or HEAD for one of its paths and returns true; false leaves the request to the next route. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * The page talks only to its own origin (HTTP and WebSocket) and to the
 * attachments' storage (`storage`: an S3 bucket's origin, PUT to and loaded
 * from; none when the server stores files itself), and runs only its own
 * scripts, its service worker (/sw.js, Web Push) included. blob: shows a
 * picked image before it is sent.
 */
function pageHeaders(storage: readonly string[]) {
  const files = storage.map((origin) => ` ${origin}`).join('');
  return {
    'content-security-policy':
      `default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data: blob:${files}; ` +
      `media-src 'self' blob:${files}; connect-src 'self'${files}; ` +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Chat</title>
<p>The browser client is not built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it when it is missing or stale), then reload.</p>
<p>The API is at <a href="/graphql">/graphql</a>.</p>\n`;

/**
 * Every file under `dir`, read once at start and kept in memory (the client is
 * a few hundred KB), with the `.br` and `.gz` copies the build wrote beside
 * it. Only those exact paths are served, so no request path can reach
 * outside the build. Vite's content-hashed assets (`/assets/…`) are kept for
 * good; the page is revalidated on every load, so a new build shows at once.
 * `dir` without an index.html: `/` answers 503 with how to build it. null: no
 * browser client at all (`WEB_DIR=off`).
 */
export function loadWebClient(
  dir: string | null,
  logger: Logger,
  /** The attachments' storage origins, read per page (the embedded storage's is known once the server listens). */
  storage: () => readonly string[] = () => [],
): WebClient | null {
  if (dir === null) return null;
  let headers: { for: string; value: ReturnType<typeof pageHeaders> } | null = null;
  const pageHeadersNow = () => {
    const origins = storage();
    const key = origins.join(' ');
    if (headers?.for !== key) headers = { for: key, value: pageHeaders(origins) };
    return headers.value;
  };
  const files = new Map<string, StaticFile>();
  if (existsSync(join(dir, 'index.html'))) {
    const paths = [...walk(dir)];
    const present = new Set(paths);
    for (const path of paths) {
      if (path.endsWith('.br') || path.endsWith('.gz')) continue;
      const urlPath = '/' + relative(dir, path).split(sep).join('/');
      const beside = (suffix: string) => (present.has(path + suffix) ? readFileSync(path + suffix) : null);
      files.set(
        urlPath,
        staticFile(readFileSync(path), contentTypeOf(urlPath), urlPath.startsWith('/assets/') ? IMMUTABLE : REVALIDATE, {
          br: beside('.br'),
          gzip: beside('.gz'),
        }),
      );
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
          res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...pageHeadersNow() });
          res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
          return true;
        }
        sendStatic(req, res, index, pageHeadersNow());
        return true;
      }
      const file = files.get(path);
      if (!file) return false;
      sendStatic(req, res, file, { 'x-content-type-options': 'nosniff' });
      return true;
    },
  };
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Content types of what this server serves from memory (the browser client, GraphiQL). */
export const CONTENT_TYPES: Record<string, string> = {
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

export const contentTypeOf = (path: string) => CONTENT_TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';

/** Content-hashed names never change content: kept a year, never revalidated. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Kept, but revalidated on every use (a 304 when unchanged), so a new build shows at once. */
export const REVALIDATE = 'no-cache';

/** The encodings served precompressed (scripts/build-web.mjs writes them), by preference. */
export type Encoding = 'br' | 'gzip';
const ENCODINGS: readonly Encoding[] = ['br', 'gzip'];

interface Representation {
  body: Buffer;
  /** Strong, and distinct per encoding: a cache must not answer a gzip request with brotli bytes. */
  etag: string;
}

/** One file in memory, with the precompressed copies that are smaller than it. */
export interface StaticFile {
  readonly type: string;
  readonly cacheControl: string;
  readonly identity: Representation;
  readonly encoded: Partial<Record<Encoding, Representation>>;
}

/** A file served as it is, or compressed as `compressed` holds it (a copy not smaller is left out). */
export function staticFile(
  body: Buffer,
  type: string,
  cacheControl: string,
  compressed: Partial<Record<Encoding, Buffer | null>> = {},
): StaticFile {
  const tag = createHash('sha1').update(body).digest('base64url').slice(0, 16);
  const encoded: Partial<Record<Encoding, Representation>> = {};
  for (const encoding of ENCODINGS) {
    const bytes = compressed[encoding];
    if (bytes && bytes.length < body.length) encoded[encoding] = { body: bytes, etag: `"${tag}-${encoding}"` };
  }
  return { type, cacheControl, identity: { body, etag: `"${tag}"` }, encoded };
}

/**
 * The encoding to answer with, from Accept-Encoding (RFC 9110 §12.5.3):
 * the acceptable one with the highest weight among those the file has,
 * brotli before gzip at equal weight; null for the identity.
 */
export function chooseEncoding(acceptEncoding: string | undefined, available: readonly Encoding[]): Encoding | null {
  if (!acceptEncoding || available.length === 0) return null;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    weights.set(name.trim(), q === undefined ? 1 : Number(q) || 0);
  }
  let best: Encoding | null = null;
  let bestWeight = 0;
  for (const encoding of ENCODINGS) {
    if (!available.includes(encoding)) continue;
    const weight = weights.get(encoding) ?? weights.get('*') ?? 0;
    if (weight > bestWeight) [best, bestWeight] = [encoding, weight];
  }
  return best;
}

/**
 * Answers a GET or HEAD with the file: compressed when the client accepts
 * an encoding it has (with Vary: Accept-Encoding, since the answer depends
 * on it), 304 when If-None-Match names what it would send.
 */
export function sendStatic(
  req: IncomingMessage,
  res: ServerResponse,
  file: StaticFile,
  headers: Record<string, string> = {},
): void {
  const available = Object.keys(file.encoded) as Encoding[];
  const encoding = chooseEncoding(req.headers['accept-encoding'], available);
  const chosen = encoding ? file.encoded[encoding]! : file.identity;
  const common: Record<string, string> = {
    ...headers,
    etag: chosen.etag,
    'cache-control': file.cacheControl,
    ...(available.length > 0 ? { vary: 'Accept-Encoding' } : {}),
  };
  const given = req.headers['if-none-match'];
  if (given !== undefined && given.split(',').some((tag) => tag.trim().replace(/^W\//, '') === chosen.etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, {
    ...common,
    'content-type': file.type,
    'content-length': chosen.body.length,
    ...(encoding ? { 'content-encoding': encoding } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : chosen.body);
}

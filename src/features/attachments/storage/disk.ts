import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DownloadSpec, Storage, UploadSpec, UploadTarget } from './storage.js';

/** Where the embedded storage answers: `/files/<key>`. */
const PREFIX = '/files/';
/** Our keys only (upload ids, and their thumbnails): never a path a client made up. */
const KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.thumb)?$/;

/**
 * The embedded storage: files in one directory (mode 0700) that the server
 * itself takes PUTs into and serves GETs from, at URLs signed with an HMAC
 * over the method, the key, the expiry and what the URL is bound to (the
 * PUT's type and size; the GET's type and name). The signing key is a file
 * in that directory, so instances sharing the directory share it.
 *
 * A PUT is refused unless it carries the signed type and length; its body is
 * counted while it streams to a temporary file and cut off past the signed
 * size, and only a body of exactly that size becomes the object. The object
 * is written once: a PUT for a key that has bytes is refused (412), so what
 * sendMessage checked cannot be replaced afterwards.
 */
export class DiskStorage implements Storage {
  readonly kind = 'disk';
  /**
   * Its URLs' origin, for the page's CSP: the page may be opened at another
   * name of this server (127.0.0.1 where the URLs say localhost).
   */
  get origins(): readonly string[] {
    return [this.origin()];
  }
  private readonly secret: Buffer;

  constructor(
    private readonly dir: string,
    /** The origin clients reach this server at (PUBLIC_URL, or where it listens), read when a URL is made. */
    private readonly origin: () => string,
    private readonly now: () => Date = () => new Date(),
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    this.secret = signingKey(join(dir, '.signing-key'));
  }

  uploadTarget(key: string, spec: UploadSpec): Promise<UploadTarget> {
    const expires = seconds(spec.expiresAt);
    const bound = `${spec.contentType}\n${spec.size}`;
    const query = new URLSearchParams({ expires: String(expires), type: spec.contentType, size: String(spec.size) });
    query.set('sig', this.sign('PUT', key, expires, bound));
    return Promise.resolve({
      url: `${this.origin()}${PREFIX}${key}?${query.toString()}`,
      headers: [{ name: 'content-type', value: spec.contentType }],
    });
  }

  downloadUrl(key: string, spec: DownloadSpec): Promise<string> {
    const expires = seconds(spec.expiresAt);
    const query = new URLSearchParams({ expires: String(expires), type: spec.contentType, name: spec.filename });
    query.set('sig', this.sign('GET', key, expires, `${spec.contentType}\n${spec.filename}`));
    return Promise.resolve(`${this.origin()}${PREFIX}${key}?${query.toString()}`);
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const info = await stat(this.path(key));
      return { size: info.size };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async head(key: string, bytes: number): Promise<Buffer | null> {
    let file;
    try {
      file = await open(this.path(key), 'r');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    try {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await file.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  async read(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async write(key: string, body: Buffer): Promise<void> {
    const temporary = `${this.path(key)}.${randomBytes(6).toString('hex')}.part`;
    await writeFile(temporary, body, { mode: 0o600 });
    await rename(temporary, this.path(key));
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.path(key), { force: true })));
  }

  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (!req.url?.startsWith(PREFIX)) return false;
    void this.answer(req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, 'The file could not be handled');
      else res.destroy();
    });
    return true;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://files');
    const key = url.pathname.slice(PREFIX.length);
    // Signed URLs are capabilities that carry no cookie: any page may use one.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD, PUT',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '600',
      });
      return void res.end();
    }
    if (!KEY.test(key)) return reply(res, 404, 'No such file');
    const expires = Number(url.searchParams.get('expires'));
    const sig = url.searchParams.get('sig') ?? '';
    const type = url.searchParams.get('type') ?? '';
    if (req.method === 'PUT') {
      const size = Number(url.searchParams.get('size'));
      if (!this.valid('PUT', key, expires, `${type}\n${url.searchParams.get('size')}`, sig)) {
        return reply(res, 403, 'The upload URL is invalid or expired');
      }
      return this.take(req, res, key, type, size);
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const name = url.searchParams.get('name') ?? '';
      if (!this.valid('GET', key, expires, `${type}\n${name}`, sig)) return reply(res, 403, 'The URL is invalid or expired');
      return this.give(req, res, key, type, name, expires);
    }
    res.setHeader('allow', 'GET, HEAD, PUT, OPTIONS');
    return reply(res, 405, 'Method not allowed');
  }

  /** A PUT: the signed type and length, then exactly that many bytes, streamed to a temporary file. */
  private async take(req: IncomingMessage, res: ServerResponse, key: string, type: string, size: number): Promise<void> {
    const given = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (given !== type) return refuse(req, res, 400, `Content-Type must be ${type}, as createUpload was told`);
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) !== size) {
      return refuse(req, res, 400, `Content-Length must be ${size}, the size createUpload was told`);
    }
    if (await this.stat(key)) return refuse(req, res, 412, 'This upload has its bytes already');
    const final = this.path(key);
    const temporary = `${final}.${randomBytes(6).toString('hex')}.part`;
    let received = 0;
    let over = false;
    let broken = false;
    await new Promise<void>((done) => {
      const sink = createWriteStream(temporary, { mode: 0o600, flags: 'wx' });
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received <= size || over) return;
        // Cut off where it passes the signed size: nothing more is written or read.
        over = true;
        req.unpipe(sink);
        sink.destroy();
        refuse(req, res, 413, `More than the ${size} bytes declared`);
      });
      const cut = () => {
        broken = true;
        sink.destroy();
      };
      req.on('error', cut);
      req.on('close', () => {
        if (!req.complete) cut();
      });
      sink.on('error', () => (broken = true));
      sink.on('close', () => done());
      req.pipe(sink);
    });
    if (over || broken || received !== size) {
      await rm(temporary, { force: true });
      if (!res.headersSent) reply(res, 400, `${received} bytes received, ${size} declared`);
      return;
    }
    // Written once: a second PUT that raced this one loses.
    if (await this.stat(key)) {
      await rm(temporary, { force: true });
      return reply(res, 412, 'This upload has its bytes already');
    }
    await rename(temporary, final);
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  }

  /** A GET or HEAD: the file, streamed, as the type and name it was signed for. */
  private async give(req: IncomingMessage, res: ServerResponse, key: string, type: string, name: string, expires: number) {
    const info = await this.stat(key);
    if (!info) return reply(res, 404, 'No such file');
    const maxAge = Math.max(0, expires - seconds(this.now()));
    res.writeHead(200, {
      'content-type': type,
      'content-length': String(info.size),
      'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(name)}`,
      'cache-control': `private, max-age=${maxAge}, immutable`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(createReadStream(this.path(key)), res);
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error('not a storage key');
    return join(this.dir, key);
  }

  private sign(method: string, key: string, expires: number, bound: string): string {
    return createHmac('sha256', this.secret).update(`${method}\n${key}\n${expires}\n${bound}`).digest('base64url');
  }

  private valid(method: string, key: string, expires: number, bound: string, sig: string): boolean {
    if (!Number.isInteger(expires) || expires < seconds(this.now())) return false;
    const expected = Buffer.from(this.sign(method, key, expires, bound));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

const seconds = (instant: Date) => Math.floor(instant.getTime() / 1000);

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(message);
}

/** Answers before the body is read, and closes the connection rather than read what nobody wants. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  res.setHeader('connection', 'close');
  reply(res, status, message);
  req.resume();
}

/** The HMAC key in the directory, made once (the first instance to get there wins; the others read it). */
function signingKey(file: string): Buffer {
  try {
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}

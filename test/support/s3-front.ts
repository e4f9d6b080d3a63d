import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * An HTTP front for s3rver that holds clients to what S3 enforces and s3rver
 * 3.7.1 does not, so tests of presigned URLs mean what they would on S3:
 * - presigned (query-string) SigV4 URLs are verified: signature over the
 *   signed headers as they arrive (a PUT of another Content-Length or
 *   Content-Type than signed is refused with SignatureDoesNotMatch), key,
 *   expiry. s3rver checks only the key and the expiry.
 * - DeleteObjects takes at most 1,000 keys (S3's MalformedXML) and needs a
 *   Content-MD5 that matches the body (as S3 clones that predate the SDK's
 *   CRC32 default do; S3 itself now accepts the CRC32 alone).
 * - a Range GET of an empty object answers 416 InvalidRange, as S3 does;
 *   s3rver answers 206 with Content-Length 1 and no body, which resets the
 *   client's connection.
 * Requests signed in the Authorization header (the SDK's own calls) pass
 * through unverified: the SDK's signing is not under test.
 */
export class StrictS3Front {
  private server: Server | null = null;
  url = '';

  constructor(
    private readonly upstream: { host: string; port: number },
    private readonly credentials: { accessKeyId: string; secretAccessKey: string },
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, 'InternalError', String(error));
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, query } = splitUrl(req.url ?? '/');
    // A CORS preflight carries the URL but none of the signed headers: S3 answers it from the bucket's CORS rules alone.
    if (req.method !== 'OPTIONS' && query.some(([name]) => name === 'X-Amz-Signature')) {
      const refusal = this.verifyPresigned(req, path, query);
      if (refusal) {
        req.resume();
        sendError(res, refusal.status, refusal.code, refusal.message);
        return;
      }
    }
    let body: Buffer | null = null;
    if (req.method === 'POST' && query.some(([name]) => name === 'delete')) {
      body = await readAll(req);
      const keys = body.toString('utf8').match(/<Object>/g)?.length ?? 0;
      if (keys > 1000) {
        sendError(res, 400, 'MalformedXML', `DeleteObjects takes at most 1000 keys, got ${keys}`);
        return;
      }
      const md5 = createHash('md5').update(body).digest('base64');
      if (req.headers['content-md5'] !== md5) {
        sendError(res, 400, 'InvalidRequest', 'Missing required header for this request: Content-Md5');
        return;
      }
    }
    await this.forward(req, res, body);
  }

  /** Refuses as S3 would, or null to pass the request on. */
  private verifyPresigned(
    req: IncomingMessage,
    path: string,
    query: Array<[string, string]>,
  ): { status: number; code: string; message: string } | null {
    const param = (name: string) => query.find(([n]) => n === name)?.[1];
    const [algorithm, credential, amzDate, expires, signedHeaders, signature] = [
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
    ].map(param);
    if (algorithm !== 'AWS4-HMAC-SHA256' || !credential || !amzDate || !expires || !signedHeaders || !signature) {
      return { status: 400, code: 'AuthorizationQueryParametersError', message: 'incomplete SigV4 query' };
    }
    const [accessKeyId, ...scopeParts] = credential.split('/');
    if (accessKeyId !== this.credentials.accessKeyId || scopeParts.length !== 4) {
      return { status: 403, code: 'InvalidAccessKeyId', message: 'unknown access key' };
    }
    const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
    if (Number.isNaN(signedAt) || !(Number(expires) >= 1 && Number(expires) <= 604_800))
      return { status: 400, code: 'AuthorizationQueryParametersError', message: 'bad X-Amz-Date or X-Amz-Expires' };
    if (Date.now() > signedAt + Number(expires) * 1000) {
      return { status: 403, code: 'AccessDenied', message: 'Request has expired' };
    }
    const headerNames = signedHeaders.split(';');
    const canonicalHeaders = headerNames.map((name) => {
      const value = req.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    });
    const canonicalQuery = query
      .filter(([name]) => name !== 'X-Amz-Signature')
      .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
      .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const canonicalRequest = [
      req.method ?? 'GET',
      path,
      canonicalQuery,
      canonicalHeaders.join(''),
      signedHeaders,
      param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    ].join('\n');
    const scope = scopeParts.join('/');
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    let key: Buffer = Buffer.from(`AWS4${this.credentials.secretAccessKey}`);
    for (const part of scopeParts) key = hmac(key, part);
    const expected = hmac(key, stringToSign).toString('hex');
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
      return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match' };
    }
    return null;
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer | null): Promise<void> {
    return new Promise((resolve, reject) => {
      const upstream = request(
        {
          host: this.upstream.host,
          port: this.upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: false,
        },
        (answer) => {
          const range = answer.headers['content-range'];
          if (answer.statusCode === 206 && typeof range === 'string' && range.endsWith('/0')) {
            answer.resume();
            sendError(res, 416, 'InvalidRange', 'The requested range is not satisfiable');
            resolve();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.once('end', () => resolve());
          answer.once('error', reject);
        },
      );
      upstream.once('error', reject);
      if (body) upstream.end(body);
      else req.pipe(upstream);
    });
  }
}

/** The path as sent (S3 signs it encoded once, not normalised) and the query's decoded pairs in order. */
function splitUrl(url: string): { path: string; query: Array<[string, string]> } {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const search = at < 0 ? '' : url.slice(at + 1);
  const query = search
    .split('&')
    .filter(Boolean)
    .map((pair): [string, string] => {
      const eq = pair.indexOf('=');
      const decode = (s: string) => decodeURIComponent(s);
      return eq < 0 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
    });
  return { path, query };
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

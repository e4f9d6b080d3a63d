import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { withDeadline } from '../../../deadline.js';
import type { DownloadSpec, Storage, UploadSpec, UploadTarget } from './storage.js';

export interface S3StorageOptions {
  /** An S3-compatible server's URL (MinIO, R2, s3rver…); null for AWS itself. */
  readonly endpoint: string | null;
  readonly bucket: string;
  readonly region: string;
  /** Both null: the SDK's default credential chain (environment, profile, instance or task role). */
  readonly accessKeyId: string | null;
  readonly secretAccessKey: string | null;
  /** URLs of the form endpoint/bucket/key instead of bucket.endpoint/key: most local servers need it. */
  readonly forcePathStyle: boolean;
}

/**
 * How far before its expiry a download URL is signed. Signing at a fixed
 * instant derived from `expiresAt` (rather than now) makes the URL a pure
 * function of key, spec and credentials: every render of one message within
 * the caller's 10-minute rounding gives the same URL, so browsers and the
 * render-once engine can cache it. Two hours cover the contract's "readable
 * for at least an hour" plus the rounding, and keep X-Amz-Date close to the
 * present (temporary credentials, servers that look at it). A later
 * `expiresAt` is signed from now, valid but no longer stable.
 */
export const DOWNLOAD_SIGNING_WINDOW_SECONDS = 2 * 60 * 60;

/** SigV4 refuses presigned URLs that live longer than a week. */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60;

/** S3 takes at most 1,000 keys per DeleteObjects. */
const DELETE_BATCH = 1000;

/** Deadlines per call (ms): a silent storage fails the request with DeadlineError instead of hanging it. */
const SMALL_CALL_MS = 5_000;
/** Whole objects: up to the upload limit (25 MiB) in, a thumbnail out. */
const OBJECT_CALL_MS = 30_000;

/**
 * Attachments in an S3-compatible bucket. Clients PUT and GET directly at
 * presigned URLs; this server only signs them and reads or writes what it
 * checks (see Storage).
 *
 * Checksums: since 3.729 the SDK adds CRC32 checksums by default, and a
 * presigned PutObject then carries `x-amz-checksum-crc32` of an *empty*
 * body in its query, which S3 (and clones) reject once the real bytes
 * arrive. WHEN_REQUIRED keeps checksums to the operations whose model
 * demands one (DeleteObjects, see deleteBatch).
 */
export class S3Storage implements Storage {
  readonly kind = 's3';
  readonly origins: readonly string[];
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3StorageOptions) {
    if ((options.accessKeyId === null) !== (options.secretAccessKey === null)) {
      throw new Error('S3 storage: give both accessKeyId and secretAccessKey, or neither');
    }
    this.bucket = options.bucket;
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.endpoint !== null ? { endpoint: options.endpoint } : {}),
      ...(options.accessKeyId !== null && options.secretAccessKey !== null
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
    });
    // The SDK's own endpoint rules, so the origins are those of the URLs it
    // signs: virtual-hosted on AWS (https://bucket.s3.region.amazonaws.com),
    // path-style for a dotted bucket name; for a custom endpoint 3.1178 signs
    // path-style even without forcePathStyle (the endpoint's origin).
    const { url } = this.client.config.endpointProvider({
      Bucket: options.bucket,
      Region: options.region,
      ForcePathStyle: options.forcePathStyle,
      ...(options.endpoint !== null ? { Endpoint: options.endpoint } : {}),
    });
    this.origins = [url.origin];
  }

  async uploadTarget(key: string, spec: UploadSpec): Promise<UploadTarget> {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = Math.floor(spec.expiresAt.getTime() / 1000) - now;
    if (expiresIn <= 0) throw new RangeError('an upload target must expire in the future');
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ContentType: spec.contentType,
      ContentLength: spec.size,
    });
    const url = await getSignedUrl(this.client, command, {
      expiresIn: presignedLifetime(expiresIn),
      signingDate: new Date(now * 1000),
      // The presigner leaves content-type unsigned by default; signing it and
      // content-length makes S3 refuse a PUT of another type or length
      // (SignatureDoesNotMatch), so the object is what createUpload allowed.
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    // Content-Length is signed too, but browsers refuse to set it (a
    // forbidden header name): every HTTP client sends the body's length.
    return { url, headers: [{ name: 'content-type', value: spec.contentType }] };
  }

  async downloadUrl(key: string, spec: DownloadSpec): Promise<string> {
    const expiresAt = Math.floor(spec.expiresAt.getTime() / 1000);
    const now = Math.floor(Date.now() / 1000);
    const stableStart = expiresAt - DOWNLOAD_SIGNING_WINDOW_SECONDS;
    const signedAt = stableStart <= now ? stableStart : now;
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentType: spec.contentType,
      ResponseContentDisposition: inlineDisposition(spec.filename),
    });
    return getSignedUrl(this.client, command, {
      expiresIn: presignedLifetime(expiresAt - signedAt),
      signingDate: new Date(signedAt * 1000),
    });
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const head = await this.call(SMALL_CALL_MS, (abortSignal) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  }

  async head(key: string, bytes: number): Promise<Buffer | null> {
    if (bytes <= 0) return (await this.stat(key)) === null ? null : Buffer.alloc(0);
    try {
      const body = await this.call(SMALL_CALL_MS, async (abortSignal) => {
        const object = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }),
          { abortSignal },
        );
        return bodyBytes(object);
      });
      // A server that ignores Range answers 200 with the whole object.
      return body.subarray(0, bytes);
    } catch (error) {
      if (isMissingObject(error)) return null;
      // S3 answers 416 to any range of an empty object: it exists, it has no bytes.
      if (errorName(error) === 'InvalidRange') return Buffer.alloc(0);
      throw error;
    }
  }

  async read(key: string): Promise<Buffer | null> {
    try {
      return await this.call(OBJECT_CALL_MS, async (abortSignal) =>
        bodyBytes(await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal })),
      );
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  }

  async write(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.call(OBJECT_CALL_MS, (abortSignal) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
        }),
        { abortSignal },
      ),
    );
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      await this.deleteBatch(keys.slice(start, start + DELETE_BATCH));
    }
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }

  close(): void {
    this.destroy();
  }

  private async deleteBatch(keys: readonly string[]): Promise<void> {
    const command = new DeleteObjectsCommand({
      Bucket: this.bucket,
      // Quiet: the answer lists only failures. A key that names no object is
      // not one (S3 reports it deleted).
      Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    });
    // DeleteObjects is the one operation used here whose model requires a checksum, so
    // even WHEN_REQUIRED sends CRC32; S3 clones that predate the new
    // checksums (older MinIO, others) refuse it without Content-MD5
    // (aws/aws-sdk-js-v3#6920). MD5 as well satisfies both, and is signed.
    command.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string>; body?: unknown };
        if (request.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
          request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
        }
        return next(args);
      },
      { step: 'build', priority: 'low', name: 'deleteObjectsContentMd5' },
    );
    const result = await this.call(SMALL_CALL_MS, (abortSignal) => this.client.send(command, { abortSignal }));
    const failed = result.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new Error(
        `S3 DeleteObjects failed for ${failed.length} of ${keys.length} keys (first: ${first.Key ?? '?'}: ${first.Code ?? '?'} ${first.Message ?? ''})`,
      );
    }
  }

  /** One storage call under a deadline; the abort frees the socket of a call that missed it. */
  private call<T>(ms: number, work: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), ms);
    timer.unref();
    return withDeadline(work(abort.signal), ms, 'storage').finally(() => clearTimeout(timer));
  }
}

export function createS3Storage(options: S3StorageOptions): S3Storage {
  return new S3Storage(options);
}

/**
 * `inline; filename*=UTF-8''…` (RFC 6266 with RFC 8187's encoding): any
 * filename, in any script, survives as the browser's save name, and no quote
 * or semicolon in it can break the header.
 */
export function inlineDisposition(filename: string): string {
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `inline; filename*=UTF-8''${encoded}`;
}

function presignedLifetime(seconds: number): number {
  if (seconds > MAX_PRESIGNED_SECONDS) {
    throw new RangeError(`a presigned URL lives at most ${MAX_PRESIGNED_SECONDS} s, asked for ${seconds} s`);
  }
  return seconds;
}

async function bodyBytes(object: GetObjectCommandOutput): Promise<Buffer> {
  if (!object.Body) return Buffer.alloc(0);
  const bytes = await object.Body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/**
 * GetObject names a missing key NoSuchKey; HeadObject has no body to name
 * anything, so the SDK calls any 404 NotFound (a missing bucket included).
 * NoSuchBucket on a GET stays an error: that is configuration, not absence.
 */
function isMissingObject(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || name === 'NotFound';
}

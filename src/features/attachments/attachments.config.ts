import { resolve } from 'node:path';
import type { EnvReader } from '../../env-reader.js';

/** The contract's content types: what createUpload accepts unless UPLOAD_CONTENT_TYPES says otherwise. */
export const DEFAULT_CONTENT_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
  'audio/mpeg',
  'audio/ogg',
  'audio/webm',
  'video/mp4',
  'video/webm',
] as const;

/** An S3-compatible bucket (`S3_BUCKET` set). */
export interface S3Config {
  readonly kind: 's3';
  /** `S3_ENDPOINT`: a non-AWS service's URL; null: AWS's own. */
  readonly endpoint: string | null;
  readonly bucket: string;
  /** `S3_REGION` @default 'us-east-1' */
  readonly region: string;
  /** `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`; null: the SDK's default chain (environment, instance role). */
  readonly accessKeyId: string | null;
  readonly secretAccessKey: string | null;
  /** `S3_FORCE_PATH_STYLE`: bucket in the path, not the host name (most local S3 servers want it). @default false */
  readonly forcePathStyle: boolean;
}

/** The embedded default: files under `UPLOADS_DIR`, PUT to and served by the server itself. */
export interface DiskConfig {
  readonly kind: 'disk';
  readonly dir: string;
}

/** Config.attachments: where files go and the contract's limits (each a variable with the contract's default). */
export interface AttachmentsConfig {
  readonly storage: S3Config | DiskConfig;
  /**
   * `PUBLIC_URL`: the origin clients reach this server at (`https://chat.example.com`), for the
   * embedded storage's URLs; unset: the address the server listens on.
   */
  readonly publicUrl: string | null;
  /** `UPLOAD_MAX_BYTES` @default 26214400 (25 MiB) */
  readonly maxBytes: number;
  /** `UPLOAD_CONTENT_TYPES`, comma-separated @default the contract's eleven */
  readonly contentTypes: readonly string[];
  /** `ATTACHMENTS_PER_MESSAGE` @default 10 */
  readonly perMessage: number;
  /** `UPLOADS_PENDING_PER_USER`: unused uploads a user may hold; one more is RATE_LIMITED @default 20 */
  readonly pendingPerUser: number;
  /** `UPLOAD_URL_TTL_SECONDS`: how long an upload URL takes a PUT @default 900 */
  readonly uploadUrlSeconds: number;
  /** `UPLOAD_UNUSED_TTL_SECONDS`: an upload not attached by then is deleted @default 86400 */
  readonly unusedSeconds: number;
  /** `ATTACHMENT_URL_TTL_SECONDS`: the least time a download URL stays valid @default 3600 */
  readonly downloadUrlSeconds: number;
  /** `UPLOAD_SWEEP_MS`: how often an instance deletes expired unused uploads @default 600000 */
  readonly sweepMs: number;
}

export function parseAttachmentsConfig({ value, integerAtLeast, problems }: EnvReader, cwd: string): AttachmentsConfig {
  const bucket = value('S3_BUCKET');
  let storage: S3Config | DiskConfig;
  if (bucket !== undefined) {
    const endpoint = value('S3_ENDPOINT') ?? null;
    if (endpoint !== null && !/^https?:\/\/[^/]+/.test(endpoint)) problems.push('S3_ENDPOINT must be an http(s) URL');
    const accessKeyId = value('S3_ACCESS_KEY_ID') ?? null;
    const secretAccessKey = value('S3_SECRET_ACCESS_KEY') ?? null;
    if ((accessKeyId === null) !== (secretAccessKey === null)) {
      problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both or neither');
    }
    const pathStyle = value('S3_FORCE_PATH_STYLE') ?? 'false';
    if (pathStyle !== 'true' && pathStyle !== 'false') problems.push('S3_FORCE_PATH_STYLE must be true or false');
    storage = Object.freeze({
      kind: 's3',
      endpoint,
      bucket,
      region: value('S3_REGION') ?? 'us-east-1',
      accessKeyId,
      secretAccessKey,
      forcePathStyle: pathStyle === 'true',
    });
  } else {
    for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) {
      if (value(name) !== undefined) problems.push(`${name} is set but S3_BUCKET is not: set S3_BUCKET to use S3`);
    }
    storage = Object.freeze({ kind: 'disk', dir: resolve(cwd, value('UPLOADS_DIR') ?? '.data/uploads') });
  }
  const publicUrl = value('PUBLIC_URL') ?? null;
  if (publicUrl !== null && !/^https?:\/\/[^/?#]+\/?$/.test(publicUrl)) {
    problems.push('PUBLIC_URL must be an origin such as https://chat.example.com');
  }
  const contentTypes = (value('UPLOAD_CONTENT_TYPES') ?? DEFAULT_CONTENT_TYPES.join(','))
    .split(',')
    .map((type) => type.trim().toLowerCase())
    .filter((type) => type !== '');
  for (const type of contentTypes) {
    if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(type)) {
      problems.push(`UPLOAD_CONTENT_TYPES holds "${type}", which is not a media type such as image/png`);
    }
  }
  const maxBytes = integerAtLeast('UPLOAD_MAX_BYTES', 25 * 1024 * 1024, 1);
  if (maxBytes > 2 ** 31 - 1) problems.push('UPLOAD_MAX_BYTES must fit an Int (at most 2147483647)');
  return Object.freeze({
    storage,
    publicUrl: publicUrl?.replace(/\/$/, '') ?? null,
    maxBytes,
    contentTypes: Object.freeze(contentTypes),
    perMessage: integerAtLeast('ATTACHMENTS_PER_MESSAGE', 10, 1),
    pendingPerUser: integerAtLeast('UPLOADS_PENDING_PER_USER', 20, 1),
    uploadUrlSeconds: integerAtLeast('UPLOAD_URL_TTL_SECONDS', 900, 1),
    unusedSeconds: integerAtLeast('UPLOAD_UNUSED_TTL_SECONDS', 86_400, 1),
    downloadUrlSeconds: integerAtLeast('ATTACHMENT_URL_TTL_SECONDS', 3600, 1),
    sweepMs: integerAtLeast('UPLOAD_SWEEP_MS', 600_000, 100),
  });
}

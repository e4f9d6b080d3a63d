import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3StorageOptions } from '../../src/features/attachments/storage/s3.js';
import { StrictS3Front } from './s3-front.js';

/** s3rver's built-in account: it knows no other key. */
const S3RVER_KEY = 'S3RVER';

/** Browsers PUT and GET straight to the bucket from the page's origin, as they would on S3. */
const CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

/** S3StorageOptions for a local S3, and its teardown. */
export interface LocalS3 extends S3StorageOptions {
  readonly endpoint: string;
  /** s3rver itself, without the front: for tests of what it lets through. */
  readonly s3rverEndpoint: string;
  close(): Promise<void>;
}

/**
 * An S3-compatible server in this process on loopback: s3rver (data in a
 * temporary directory, one bucket that allows PUT and GET from any origin)
 * behind StrictS3Front (s3-front.ts), which verifies presigned URLs'
 * signatures as S3 does. s3rver 3.7.1 alone checks a SigV4 URL's key and
 * expiry but not its signature ("Signature version 4 calculation is
 * unimplemeneted" in its authentication middleware), so a PUT of another
 * length or type, or with a forged signature, would be stored.
 * Always close() it.
 */
export async function startLocalS3(): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'chat-s3rver-'));
  const bucket = 'attachments';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    // Path-style URLs only (forcePathStyle below): no Host header names a bucket.
    vhostBuckets: false,
    configureBuckets: [{ name: bucket, configs: [CORS] }],
  });
  let front: StrictS3Front | null = null;
  let running = false;
  const close = async () => {
    await front?.stop();
    if (running) await server.close();
    await rm(directory, { recursive: true, force: true });
  };
  try {
    const { port } = await server.run();
    running = true;
    front = new StrictS3Front({ host: '127.0.0.1', port }, { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY });
    await front.start();
    return {
      endpoint: front.url,
      s3rverEndpoint: `http://127.0.0.1:${port}`,
      bucket,
      region: 'us-east-1',
      accessKeyId: S3RVER_KEY,
      secretAccessKey: S3RVER_KEY,
      forcePathStyle: true,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

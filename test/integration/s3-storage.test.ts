import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3Storage } from '../../src/features/attachments/storage/s3.js';
import type { UploadTarget } from '../../src/features/attachments/storage/storage.js';
import { startLocalS3, type LocalS3 } from '../support/s3.js';

const MINUTE = 60_000;

/** What a browser does with an upload target: PUT the bytes with exactly the listed headers. */
function put(target: UploadTarget, body: Buffer | string, headers = target.headers) {
  return fetch(target.url, {
    method: 'PUT',
    headers: Object.fromEntries(headers.map((h) => [h.name, h.value])),
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

/** The S3 error code of an XML error answer. */
async function errorCode(response: Response): Promise<string | undefined> {
  return /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('S3Storage against a local S3 (s3rver behind a SigV4-checking front)', () => {
  let s3: LocalS3;
  let storage: S3Storage;
  let keySeq = 0;
  const newKey = () => `test/${process.pid}-${++keySeq}`;

  beforeAll(async () => {
    s3 = await startLocalS3();
    storage = new S3Storage(s3);
  });

  afterAll(async () => {
    storage?.destroy();
    await s3?.close();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  describe('uploadTarget', () => {
    it('takes a PUT with its headers, after which stat, head and read give the bytes back', async () => {
      const key = newKey();
      const bytes = Buffer.from('\x89PNG\r\n\x1a\n and then the rest of a small image');
      const target = await storage.uploadTarget(key, {
        contentType: 'image/png',
        size: bytes.length,
        expiresAt: new Date(Date.now() + 15 * MINUTE),
      });
      // Only what a browser may set: Content-Length is a forbidden header name there.
      expect(target.headers).toEqual([{ name: 'content-type', value: 'image/png' }]);

      const response = await put(target, bytes);
      expect(response.status).toBe(200);

      expect(await storage.stat(key)).toEqual({ size: bytes.length });
      expect(await storage.head(key, 8)).toEqual(bytes.subarray(0, 8));
      expect(await storage.head(key, bytes.length + 100)).toEqual(bytes);
      expect(await storage.read(key)).toEqual(bytes);
    });

    it('is bound to the declared length and type: a PUT of another length or type, or without the type, is refused', async () => {
      const key = newKey();
      const target = await storage.uploadTarget(key, {
        contentType: 'text/plain',
        size: 5,
        expiresAt: new Date(Date.now() + 15 * MINUTE),
      });
      const signed = new URL(target.url).searchParams.get('X-Amz-SignedHeaders')?.split(';');
      expect(signed).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));

      const longer = await put(target, 'hello, and more than was declared');
      expect(longer.status).toBe(403);
      expect(await errorCode(longer)).toBe('SignatureDoesNotMatch');

      const otherType = await put(target, 'hello', [{ name: 'content-type', value: 'text/html' }]);
      expect(otherType.status).toBe(403);
      expect(await errorCode(otherType)).toBe('SignatureDoesNotMatch');

      const untyped = await fetch(target.url, { method: 'PUT', body: new TextEncoder().encode('hello') });
      expect(untyped.status).toBe(403);

      const forged = { ...target, url: target.url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`) };
      expect((await put(forged, 'hello')).status).toBe(403);

      expect(await storage.stat(key)).toBeNull();
      expect((await put(target, 'hello')).status).toBe(200);
      expect(await storage.stat(key)).toEqual({ size: 5 });
    });

    it('signs no checksum of an empty body into the URL (requestChecksumCalculation WHEN_REQUIRED)', async () => {
      const target = await storage.uploadTarget(newKey(), {
        contentType: 'image/png',
        size: 10,
        expiresAt: new Date(Date.now() + 15 * MINUTE),
      });
      const names = [...new URL(target.url).searchParams.keys()].map((name) => name.toLowerCase());
      expect(names.filter((name) => name.includes('checksum'))).toEqual([]);
    });

    it('refuses to sign a target whose expiry has passed', async () => {
      await expect(
        storage.uploadTarget(newKey(), { contentType: 'image/png', size: 10, expiresAt: new Date(Date.now() - 1000) }),
      ).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('downloadUrl', () => {
    it('serves the bytes with the content type and an inline disposition that carries any filename', async () => {
      const key = newKey();
      const bytes = Buffer.from('%PDF-1.7 a document');
      await storage.write(key, bytes, 'application/octet-stream');
      const filename = 'Résumé "final"; (2) 日本.pdf';

      const url = await storage.downloadUrl(key, {
        contentType: 'application/pdf',
        filename,
        expiresAt: new Date(Date.now() + 60 * MINUTE),
      });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/pdf');
      const disposition = response.headers.get('content-disposition') ?? '';
      expect(disposition).toMatch(/^inline; filename\*=UTF-8''[A-Za-z0-9%!#$&+\-.^_`|~]+$/);
      expect(decodeURIComponent(disposition.slice("inline; filename*=UTF-8''".length))).toBe(filename);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
    });

    it('gives the same URL for one key and expiresAt at different moments, and another for another expiresAt', async () => {
      const key = newKey();
      await storage.write(key, Buffer.from('cacheable'), 'text/plain');
      const spec = { contentType: 'text/plain', filename: 'a.txt', expiresAt: new Date(Date.now() + 70 * MINUTE) };

      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 60_000);
      const first = await storage.downloadUrl(key, spec);
      vi.setSystemTime(Date.now() + 7 * MINUTE);
      const second = await storage.downloadUrl(key, spec);
      vi.useRealTimers();

      expect(second).toBe(first);
      const later = await storage.downloadUrl(key, { ...spec, expiresAt: new Date(spec.expiresAt.getTime() + 10 * MINUTE) });
      expect(later).not.toBe(first);
      expect((await fetch(first)).status).toBe(200);
    });

    it('answers 404 once the object is deleted, as stat, head and read answer null', async () => {
      const key = newKey();
      await storage.write(key, Buffer.from('soon gone'), 'text/plain');
      const url = await storage.downloadUrl(key, {
        contentType: 'text/plain',
        filename: 'gone.txt',
        expiresAt: new Date(Date.now() + 60 * MINUTE),
      });
      expect((await fetch(url)).status).toBe(200);

      await storage.delete([key]);

      const response = await fetch(url);
      expect(response.status).toBe(404);
      expect(await errorCode(response)).toBe('NoSuchKey');
      expect(await storage.stat(key)).toBeNull();
      expect(await storage.head(key, 4)).toBeNull();
      expect(await storage.read(key)).toBeNull();
    });

    it('is refused once its expiry has passed', async () => {
      const key = newKey();
      await storage.write(key, Buffer.from('short-lived'), 'text/plain');
      // Time itself is under test: a URL that expires two whole seconds from now.
      const expiresAt = new Date((Math.floor(Date.now() / 1000) + 2) * 1000);
      const url = await storage.downloadUrl(key, { contentType: 'text/plain', filename: 'a.txt', expiresAt });
      expect((await fetch(url)).status).toBe(200);

      await sleep(expiresAt.getTime() - Date.now() + 200);
      const response = await fetch(url);
      expect(response.status).toBe(403);
      expect(await errorCode(response)).toBe('AccessDenied');

      // s3rver itself checks the expiry too (not the signature).
      const direct = await fetch(url.replace(s3.endpoint, s3.s3rverEndpoint));
      expect(direct.status).toBe(403);
    });

    it('gives a URL that is refused at once for an expiresAt already past', async () => {
      const key = newKey();
      await storage.write(key, Buffer.from('old'), 'text/plain');
      const url = await storage.downloadUrl(key, {
        contentType: 'text/plain',
        filename: 'a.txt',
        expiresAt: new Date(Date.now() - MINUTE),
      });
      const response = await fetch(url);
      expect(response.status).toBe(403);
      expect(await errorCode(response)).toBe('AccessDenied');
    });
  });

  describe('write, head, delete', () => {
    it('write stores an object with its content type that read returns', async () => {
      const key = newKey();
      const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
      await storage.write(key, bytes, 'image/jpeg');
      expect(await storage.read(key)).toEqual(bytes);
      expect(await storage.stat(key)).toEqual({ size: bytes.length });

      const client = new S3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId!, secretAccessKey: s3.secretAccessKey! },
      });
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
        expect(head.ContentType).toBe('image/jpeg');
      } finally {
        client.destroy();
      }
    });

    it('head of an empty object is an empty buffer, of a missing one null', async () => {
      const key = newKey();
      await storage.write(key, Buffer.alloc(0), 'text/plain');
      expect(await storage.stat(key)).toEqual({ size: 0 });
      expect(await storage.head(key, 16)).toEqual(Buffer.alloc(0));
      expect(await storage.head(key, 0)).toEqual(Buffer.alloc(0));
      expect(await storage.read(key)).toEqual(Buffer.alloc(0));
      expect(await storage.head(newKey(), 16)).toBeNull();
      expect(await storage.head(newKey(), 0)).toBeNull();
    });

    it('delete removes objects in batches of at most 1,000 keys, each with a Content-MD5, ignoring keys that name none', async () => {
      const first = newKey();
      const last = newKey();
      await storage.write(first, Buffer.from('first'), 'text/plain');
      await storage.write(last, Buffer.from('last'), 'text/plain');
      const missing = Array.from({ length: 1000 }, (_, i) => `never/${i}`);

      // 1,002 keys: two requests; the front refuses more than 1,000 in one, or one without Content-MD5.
      await storage.delete([first, ...missing, last]);

      expect(await storage.stat(first)).toBeNull();
      expect(await storage.stat(last)).toBeNull();
      await storage.delete([]);
      await storage.delete(['never/again']);
    });
  });

  describe('origins', () => {
    it('is the origin of the URLs it signs, for a custom endpoint and for AWS', async () => {
      const target = await storage.uploadTarget(newKey(), {
        contentType: 'image/png',
        size: 1,
        expiresAt: new Date(Date.now() + MINUTE),
      });
      expect(storage.origins).toEqual([new URL(target.url).origin]);
      expect(storage.origins).toEqual([s3.endpoint]);

      // Signing needs no network: AWS itself, virtual-hosted, and path-style for a dotted bucket name.
      for (const [bucket, origin] of [
        ['chat-attachments', 'https://chat-attachments.s3.eu-west-1.amazonaws.com'],
        ['chat.attachments', 'https://s3.eu-west-1.amazonaws.com'],
      ] as const) {
        const aws = new S3Storage({
          endpoint: null,
          bucket,
          region: 'eu-west-1',
          accessKeyId: 'AKIDEXAMPLE',
          secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
          forcePathStyle: false,
        });
        const url = await aws.downloadUrl('k', {
          contentType: 'image/png',
          filename: 'a.png',
          expiresAt: new Date(Date.now() + MINUTE),
        });
        expect(aws.origins).toEqual([origin]);
        expect(new URL(url).origin).toBe(origin);
        aws.destroy();
      }
      const hosted = new S3Storage({ ...s3, endpoint: 'https://account.r2.example.com', forcePathStyle: false });
      const url = await hosted.downloadUrl('k', {
        contentType: 'image/png',
        filename: 'a.png',
        expiresAt: new Date(Date.now() + MINUTE),
      });
      expect(hosted.origins).toEqual([new URL(url).origin]);
      hosted.destroy();
    });
  });

  describe('the harness', () => {
    it("answers a browser's CORS preflight for the upload PUT from any origin", async () => {
      const target = await storage.uploadTarget(newKey(), {
        contentType: 'image/png',
        size: 1,
        expiresAt: new Date(Date.now() + MINUTE),
      });
      const response = await fetch(target.url, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://chat.example',
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-methods')).toContain('PUT');
      expect(response.headers.get('access-control-allow-headers')).toBe('content-type');
    });
  });

  describe('the harness: what s3rver alone enforces', () => {
    // s3rver 3.7.1 verifies no SigV4 signature: straight to it, a PUT of
    // another length or type than signed, even with a forged signature, is
    // stored. That is why tests go through StrictS3Front, and why the server
    // checks the stored size at sendMessage whatever the storage.
    it('stores a PUT of another length or type than signed, and one with a forged signature', async () => {
      const key = newKey();
      const target = await storage.uploadTarget(key, {
        contentType: 'image/png',
        size: 5,
        expiresAt: new Date(Date.now() + 15 * MINUTE),
      });
      const direct = { ...target, url: target.url.replace(s3.endpoint, s3.s3rverEndpoint) };
      expect((await put(direct, 'much longer than five bytes', [{ name: 'content-type', value: 'text/html' }])).status).toBe(200);
      expect(await storage.stat(key)).toEqual({ size: 27 });

      const forged = { ...direct, url: direct.url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`) };
      expect((await put(forged, 'hello')).status).toBe(200);
      expect(await storage.stat(key)).toEqual({ size: 5 });
    });
  });
});

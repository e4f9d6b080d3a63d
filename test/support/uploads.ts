import sharp from 'sharp';
import { gql, gqlOk, type GqlResult } from './client.js';
import type { TestRoom, TestUser } from './seed.js';
import type { App } from './server.js';

export interface UploadAnswer {
  id: string;
  uploadUrl: string;
  uploadHeaders: Array<{ name: string; value: string }>;
  expiresAt: string;
}

export const CREATE_UPLOAD = `mutation($input: CreateUploadInput!) {
  createUpload(input: $input) { id uploadUrl uploadHeaders { name value } expiresAt }
}`;

export const ATTACHMENT_FIELDS = 'id filename contentType size url width height thumbnailUrl';

/** A PNG of `width`×`height` pixels. */
export const png = (width = 40, height = 30) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 60 } } })
    .png()
    .toBuffer();

/** A JPEG that carries EXIF (a camera's make and a copyright line). */
export const jpegWithExif = (width = 800, height = 600) =>
  sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .jpeg()
    .withExif({ IFD0: { Make: 'TestCam', Copyright: 'who took it' } })
    .toBuffer();

/** A minimal PDF's first bytes. */
export const pdf = () => Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

export function createUploadRaw(
  app: App,
  user: TestUser,
  room: TestRoom,
  file: { filename?: string; contentType: string; size: number },
): Promise<GqlResult> {
  return gql(app, CREATE_UPLOAD, { input: { roomId: room.id, filename: file.filename ?? 'file.bin', ...file } }, user.token);
}

export async function createUpload(
  app: App,
  user: TestUser,
  room: TestRoom,
  file: { filename?: string; contentType: string; size: number },
): Promise<UploadAnswer> {
  const data = await gqlOk(
    app,
    CREATE_UPLOAD,
    { input: { roomId: room.id, filename: file.filename ?? 'file.bin', ...file } },
    user.token,
  );
  return data.createUpload as UploadAnswer;
}

/** PUTs the bytes as a browser would: to uploadUrl with uploadHeaders. */
export function put(upload: UploadAnswer, body: Buffer): Promise<Response> {
  return fetch(upload.uploadUrl, {
    method: 'PUT',
    headers: Object.fromEntries(upload.uploadHeaders.map((h) => [h.name, h.value])),
    body: new Uint8Array(body),
  });
}

/** createUpload, then the PUT (which must succeed): the upload's id. */
export async function uploaded(
  app: App,
  user: TestUser,
  room: TestRoom,
  body: Buffer,
  contentType: string,
  filename = 'file.bin',
): Promise<string> {
  const upload = await createUpload(app, user, room, { filename, contentType, size: body.length });
  const response = await put(upload, body);
  if (!response.ok) throw new Error(`PUT answered ${response.status}: ${await response.text()}`);
  return upload.id;
}

/**
 * GETs a file URL. A keep-alive socket the server closed as idle just as it
 * was reused ("other side closed", seen on a loaded machine) is retried once
 * on a new one: that race is the HTTP client's, not what a test looks at.
 */
export async function download(url: string): Promise<Response> {
  try {
    return await fetch(url);
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw error;
    return fetch(url);
  }
}

import type { AttachmentFieldsFragment } from '../../client/index.js';

export type Attachment = AttachmentFieldsFragment;

/**
 * Files attached to a message, as the page handles them: the contract's
 * limits, checked before anything is asked of the server (which checks them
 * again, and its refusals are shown in its own words); the files a composer
 * holds until they go with a message (PendingUploads), each uploaded as soon
 * as it is added (createUpload, then a PUT of its bytes with progress); and
 * how an attachment is shown.
 */

/** The contract's default limits ("Attachments"): 25 MiB a file, 10 files a message. */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;
export const MAX_ATTACHMENTS = 10;

/** The contract's content types, with the extension a file of that type is named with when it has no name. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/webm': 'weba',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
};

/** The extension of a file of this type ("png", "pdf"); "file" for one off the list. */
export const extensionOf = (contentType: string): string => EXTENSIONS[contentType] ?? 'file';

/** The allowed kinds, as a refusal names them. */
const ALLOWED = 'images (PNG, JPEG, GIF, WebP), PDF, plain text, audio (MP3, Ogg, WebM) and video (MP4, WebM)';

/** The types the server makes thumbnails of, and the page shows as pictures. */
export const isImage = (contentType: string): boolean => /^image\/(png|jpeg|gif|webp)$/.test(contentType);

/** A file's type as createUpload takes it: lower case, without parameters ("text/plain;charset=utf-8" is text/plain). */
export const contentTypeOf = (file: { type: string }): string => file.type.split(';')[0]!.trim().toLowerCase();

/** "512 bytes", "1.4 KB", "23 MB": sizes in binary units, one decimal under ten. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${shown} ${units[unit]}`;
}

/**
 * Why a file cannot be attached, in words, or null when it can: `held` is
 * how many files the message holds already. The contract's limits only: a
 * server configured otherwise says so itself.
 */
export function refusal(file: { name: string; type: string; size: number }, held: number): string | null {
  const name = `“${file.name || 'The pasted file'}”`;
  if (held >= MAX_ATTACHMENTS) return `${name} was not added: a message takes at most ${MAX_ATTACHMENTS} files.`;
  const type = contentTypeOf(file);
  if (!(type in EXTENSIONS)) {
    return `${name} cannot be sent: ${type ? `${type} files are` : 'files of that type are'} not allowed, only ${ALLOWED}.`;
  }
  if (file.size === 0) return `${name} cannot be sent: it is empty.`;
  if (file.size > MAX_FILE_BYTES) {
    return `${name} cannot be sent: it is ${fileSize(file.size)}, and a file may be at most ${fileSize(MAX_FILE_BYTES)}.`;
  }
  return null;
}

/**
 * The name createUpload is given: the file's own, made to fit the contract
 * (1-255 characters, no / or \, no control characters), keeping its
 * extension; a file without one (a pasted screenshot may have none) is named
 * after its type.
 */
export function uploadName(name: string, contentType: string): string {
  const clean = name
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[/\\]/g, '_')
    .trim();
  const fallback = `pasted.${EXTENSIONS[contentType] ?? 'bin'}`;
  if (clean === '' || clean === '.' || clean === '..') return fallback;
  const chars = [...clean];
  if (chars.length <= 255) return clean;
  const dot = clean.lastIndexOf('.');
  const extension = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : '';
  return chars.slice(0, 255 - [...extension].length).join('') + extension;
}

/** An image's size on screen: its own, scaled down (never up) to fit within the box, in whole pixels. */
export function fitWithin(width: number, height: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * What a refused PUT says: the storage's own message (an S3 error's
 * `<Message>`, the embedded storage's plain text), else its status.
 */
export function putFailureText(status: number, body: string): string {
  const xml = /<Message>([^<]*)<\/Message>/.exec(body)?.[1]?.trim();
  const text = xml ?? (body.length <= 300 && !body.trimStart().startsWith('<') ? body.trim() : '');
  const said = text ? `: ${text.replace(/[.\s]+$/, '')}` : '';
  return `The storage refused the file (${status})${said}.`;
}

/** A failed PUT, its message fit to show as it is. */
export class UploadError extends Error {
  override readonly name = 'UploadError';
}

/** Where createUpload said to PUT the bytes. */
export interface UploadTarget {
  id: string;
  uploadUrl: string;
  uploadHeaders: ReadonlyArray<{ name: string; value: string }>;
}

/** The two steps of an upload: asking for a URL, and sending the bytes there. */
export interface Uploader {
  createUpload(input: { roomId: string; filename: string; contentType: string; size: number }): Promise<UploadTarget>;
  /** PUTs the file, telling how many bytes went so far; rejects with an UploadError when refused, and stops when aborted. */
  put(target: UploadTarget, file: Blob, onProgress: (sent: number) => void, signal: AbortSignal): Promise<void>;
}

/** Headers a page may not set (the browser sets them itself from the body). */
const BROWSER_SET = new Set(['content-length', 'host', 'connection']);

/**
 * The PUT by XMLHttpRequest, the one browser API that reports how much of a
 * request body went (fetch has no upload progress). The storage may be
 * another origin (an S3 bucket): its CORS rules and the page's connect-src
 * allow it.
 */
export function putFile(
  target: UploadTarget,
  file: Blob,
  onProgress: (sent: number) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', target.uploadUrl);
    for (const { name, value } of target.uploadHeaders) {
      if (!BROWSER_SET.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new UploadError(putFailureText(xhr.status, xhr.responseText)));
    };
    xhr.onerror = () => reject(new UploadError('The upload was cut off. Check the connection, then retry.'));
    xhr.onabort = () => reject(new DOMException('The upload was stopped', 'AbortError'));
    if (signal.aborted) return xhr.abort();
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/** A file that goes with a message: its stored upload, and what the page shows of it until the message is back. */
export interface OutgoingFile {
  readonly id: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
}

/** A file a composer holds: uploading, ready to go with the message, or failed (with why). */
export interface PendingUpload {
  readonly key: string;
  readonly file: Blob;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** An image's blob: URL, for its preview (the page's img-src allows blob:); null for other files. */
  readonly preview: string | null;
  state: 'uploading' | 'ready' | 'failed';
  /** Bytes sent so far. */
  sent: number;
  error: string | null;
  /** The upload's id once its bytes are stored: what sendMessage's attachmentIds takes. */
  uploadId: string | null;
}

export interface PendingUploadsOptions {
  /** The room the files are for: an upload is created for one room. */
  roomId: string;
  uploader: Uploader;
  /** A failure in words (the page's describe()); an UploadError's message is shown as it is. */
  describe(error: unknown): string;
  /** A file was added, removed, or moved on. */
  onChange(): void;
  objectUrls?: { create(blob: Blob): string; revoke(url: string): void };
}

/**
 * The files a composer holds for one room, in the order added. Each starts
 * uploading when added, all at once; a failed one can be retried (with a new
 * upload) or removed. Removing a file stops its upload; one already stored
 * is left to the server, which deletes unused uploads after a day (the
 * contract has no call to delete one).
 */
export class PendingUploads {
  private items: PendingUpload[] = [];
  private readonly running = new Map<string, AbortController>();
  private added = 0;
  private readonly urls: { create(blob: Blob): string; revoke(url: string): void };

  constructor(private readonly options: PendingUploadsOptions) {
    this.urls = options.objectUrls ?? { create: (blob) => URL.createObjectURL(blob), revoke: (url) => URL.revokeObjectURL(url) };
  }

  get roomId(): string {
    return this.options.roomId;
  }

  list(): readonly PendingUpload[] {
    return this.items;
  }

  /** Some file is still on its way. */
  get uploading(): boolean {
    return this.items.some((item) => item.state === 'uploading');
  }

  /** Some file failed and is still held. */
  get failed(): boolean {
    return this.items.some((item) => item.state === 'failed');
  }

  /** The stored uploads, in the order added. */
  ready(): PendingUpload[] {
    return this.items.filter((item) => item.state === 'ready');
  }

  /** Adds files and starts their uploads; returns why each refused one was not added. */
  add(files: ReadonlyArray<Blob & { name: string }>): string[] {
    const refusals: string[] = [];
    for (const file of files) {
      const refused = refusal(file, this.items.length);
      if (refused) {
        refusals.push(refused);
        continue;
      }
      const contentType = contentTypeOf(file);
      const item: PendingUpload = {
        key: `file-${++this.added}`,
        file,
        filename: uploadName(file.name, contentType),
        contentType,
        size: file.size,
        preview: isImage(contentType) ? this.urls.create(file) : null,
        state: 'uploading',
        sent: 0,
        error: null,
        uploadId: null,
      };
      this.items.push(item);
      void this.upload(item);
    }
    this.options.onChange();
    return refusals;
  }

  remove(key: string): void {
    const item = this.items.find((i) => i.key === key);
    if (!item) return;
    this.forget(item);
    this.items = this.items.filter((i) => i !== item);
    this.options.onChange();
  }

  /** Uploads a failed file again, from the start. */
  retry(key: string): void {
    const item = this.items.find((i) => i.key === key && i.state === 'failed');
    if (item) void this.upload(item);
  }

  /** Lets go of every file: after a send (they went with it), or when the draft is dropped. */
  clear(): void {
    for (const item of this.items) this.forget(item);
    this.items = [];
    this.options.onChange();
  }

  private forget(item: PendingUpload): void {
    this.running.get(item.key)?.abort();
    this.running.delete(item.key);
    if (item.preview) this.urls.revoke(item.preview);
  }

  private async upload(item: PendingUpload): Promise<void> {
    const { uploader, roomId } = this.options;
    const control = new AbortController();
    this.running.set(item.key, control);
    Object.assign(item, { state: 'uploading', sent: 0, error: null, uploadId: null });
    this.options.onChange();
    try {
      const target = await uploader.createUpload({
        roomId,
        filename: item.filename,
        contentType: item.contentType,
        size: item.size,
      });
      if (control.signal.aborted) return;
      await uploader.put(
        target,
        item.file,
        (sent) => {
          if (control.signal.aborted) return;
          item.sent = Math.min(sent, item.size);
          this.options.onChange();
        },
        control.signal,
      );
      if (control.signal.aborted) return;
      Object.assign(item, { state: 'ready', sent: item.size, uploadId: target.id });
    } catch (error) {
      if (control.signal.aborted) return;
      Object.assign(item, {
        state: 'failed',
        error: error instanceof UploadError ? error.message : this.options.describe(error),
      });
    } finally {
      if (this.running.get(item.key) === control) this.running.delete(item.key);
    }
    this.options.onChange();
  }
}

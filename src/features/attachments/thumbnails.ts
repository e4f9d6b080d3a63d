import sharp, { type Metadata } from 'sharp';
import type { MessageRow, UploadRow } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { AttachmentsStore } from './attachments.store.js';
import type { Storage } from './storage/storage.js';

/** The longer side of a thumbnail, at most. */
export const THUMBNAIL_PX = 320;
/** Images with more pixels than this are not decoded (a decompression bomb is refused, not thumbnailed). */
const MAX_INPUT_PIXELS = 100_000_000;

/** An image's size as it is shown: EXIF orientations 5-8 turn it a quarter, so width and height swap. */
export function uprightSize(metadata: Metadata): { width: number; height: number } | null {
  const { width, height, orientation } = metadata;
  if (!width || !height) return null;
  return (orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
}

/**
 * Makes image thumbnails off the send path, one at a time per instance (the
 * decoding runs on libuv's pool; one at a time keeps sends ahead of it):
 * at most 320 px on the longer side, turned upright, WebP, with no metadata
 * (sharp drops EXIF, XMP and ICC unless asked to keep them). When one is
 * stored, MessageChanged THUMBNAIL tells the room. An instance that stops
 * first leaves thumbnailUrl null for that image.
 */
export class Thumbnails {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly deps: {
      store: AttachmentsStore;
      storage: Storage;
      publish: Publisher;
      logger: Logger;
      /** The message as it is now (edited meanwhile, or deleted: then nothing is announced). */
      message: (id: string) => Promise<MessageRow | null>;
    },
  ) {}

  make(upload: UploadRow, message: MessageRow): void {
    this.pending++;
    this.queue = this.queue
      .then(() => this.one(upload, message.id))
      .catch((error: Error) => this.deps.logger.warn('could not make a thumbnail', { error, uploadId: upload.id }))
      .finally(() => this.pending--);
  }

  /** Resolves when every thumbnail asked for so far is made (or failed). */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.queue;
  }

  private async one(upload: UploadRow, messageId: string): Promise<void> {
    const { storage, store } = this.deps;
    const bytes = await storage.read(upload.key);
    if (!bytes) return; // deleted meanwhile
    const image = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS });
    const metadata = await image.metadata();
    const thumbnail = await image
      .rotate()
      .resize({ width: THUMBNAIL_PX, height: THUMBNAIL_PX, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer();
    const key = `${upload.key}.thumb`;
    await storage.write(key, thumbnail, 'image/webp');
    const kept = await store.setThumbnail(upload.id, key, upload.width === null ? uprightSize(metadata) : null);
    if (!kept) return void (await storage.delete([key]));
    const message = await this.deps.message(messageId);
    if (!message || message.deletedAt) return;
    this.deps.publish.room(message.roomId, { type: 'message-changed', change: 'THUMBNAIL', message });
  }
}

import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Viewer } from '../../auth/viewer.js';
import type { Clock } from '../../clock.js';
import type { UploadRow } from '../../db/schema.js';
import { badInput, rateLimited } from '../../errors.js';
import type { CreateUploadInput, Upload } from '../../generated/graphql.js';
import type { Logger } from '../../logger.js';
import { requireId, requireLength } from '../../validation.js';
import type { BlockingService } from '../blocking/blocking.service.js';
import type { MessageExtension } from '../messages/messages.service.js';
import { voiceRefusal } from '../moderation/permissions.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { AttachmentsConfig } from './attachments.config.js';
import type { Attaching, AttachmentsStore } from './attachments.store.js';
import { contentMatches, SNIFF_BYTES } from './sniffing.js';
import type { Storage } from './storage/storage.js';
import { uprightSize, type Thumbnails } from './thumbnails.js';

/** Download URLs expire on this grid, so one file's URL stays the same for a while (caches, one rendering for all). */
const URL_GRID_MS = 10 * 60 * 1000;

export class AttachmentsService {
  constructor(
    private readonly deps: {
      store: AttachmentsStore;
      storage: Storage;
      rooms: RoomsService;
      blocking: BlockingService;
      thumbnails: Thumbnails;
      config: AttachmentsConfig;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /**
   * A member who may post in the room (not muted, not in a frozen room
   * unless a moderator, not blocked in a DIRECT room) asks to upload a file
   * of an allowed type and size: the upload is recorded as pending, and a
   * URL bound to that type and length is returned. A user holding
   * `pendingPerUser` unused uploads is RATE_LIMITED; uploads whose URL lapsed
   * with no bytes are given back first.
   */
  async createUpload(viewer: Viewer, input: CreateUploadInput): Promise<Upload> {
    const { config, store, storage, clock } = this.deps;
    const roomId = requireId(input.roomId, 'Room');
    const { room, membership } = await this.deps.rooms.requireMembership(viewer, roomId);
    const refusal = voiceRefusal(room, membership, clock);
    if (refusal) throw refusal;
    if (room.kind === 'DIRECT' && room.directKey) {
      const [a, b] = room.directKey.split(':') as [string, string];
      await this.deps.blocking.requireNotBlocked(a, b);
    }
    const filename = sanitiseFilename(input.filename);
    const contentType = input.contentType.split(';')[0]!.trim().toLowerCase();
    if (!config.contentTypes.includes(contentType)) {
      throw badInput(`contentType must be one of ${config.contentTypes.join(', ')}`, 'contentType');
    }
    if (!Number.isInteger(input.size) || input.size < 1 || input.size > config.maxBytes) {
      throw badInput(`size must be 1 to ${config.maxBytes} bytes`, 'size');
    }
    const now = clock.now();
    const id = randomUUID();
    const upload = {
      id,
      ownerId: viewer.userId,
      roomId: room.id,
      filename,
      contentType,
      size: input.size,
      key: id,
      createdAt: now,
    };
    if (!(await store.createPending(upload, config.pendingPerUser))) {
      await this.releaseAbandoned(viewer.userId, now);
      if (!(await store.createPending(upload, config.pendingPerUser))) {
        throw rateLimited(
          config.uploadUrlSeconds,
          `You have ${config.pendingPerUser} uploads not attached to a message yet: send or wait for them first`,
        );
      }
    }
    const expiresAt = new Date(now.getTime() + config.uploadUrlSeconds * 1000);
    const target = await storage.uploadTarget(id, { contentType, size: input.size, expiresAt });
    return { id, uploadUrl: target.url, uploadHeaders: [...target.headers], expiresAt };
  }

  /** Deletes the user's pending uploads whose URL lapsed before any bytes arrived: they can never be attached. */
  private async releaseAbandoned(ownerId: string, now: Date): Promise<void> {
    const lapsed = new Date(now.getTime() - this.deps.config.uploadUrlSeconds * 1000);
    const old = await this.deps.store.pendingBefore(ownerId, lapsed, this.deps.config.pendingPerUser);
    const empty = (await Promise.all(old.map(async (u) => ((await this.deps.storage.stat(u.key)) ? null : u.id)))).filter(
      (id): id is string => id !== null,
    );
    await this.deps.store.deletePending(empty);
  }

  /**
   * Attaching at sendMessage, as a MessageExtension: before anything is
   * stored, each upload is checked (the viewer's, for this room, unused, its
   * bytes there, of the declared size, its first bytes of the declared
   * type); in the send's transaction they are attached, so a repeat or a
   * race finds them used; after the commit images get their thumbnails.
   * Deleting a message deletes its attachments' rows in that transaction,
   * and their objects after it.
   */
  readonly extension: MessageExtension = {
    prepareSend: async (viewer, input, roomId) => {
      const ids = input.attachmentIds;
      if (ids === null || ids === undefined || ids.length === 0) return null;
      const { perMessage } = this.deps.config;
      if (ids.length > perMessage) throw badInput(`At most ${perMessage} attachments per message`, 'attachmentIds');
      if (new Set(ids.map((id) => id.toLowerCase())).size !== ids.length) {
        throw badInput('attachmentIds must not name an upload twice', 'attachmentIds');
      }
      // Membership first, so a non-member learns nothing about the uploads.
      await this.deps.rooms.requireMembership(viewer, roomId);
      const missing = () =>
        badInput('An upload is not yours, not for this room, or has no bytes', 'attachmentIds', 'UPLOAD_MISSING');
      const wellFormed = ids.map((id) => {
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw missing();
        return id.toLowerCase();
      });
      const rows = new Map((await this.deps.store.findByIds(wellFormed)).map((row) => [row.id, row]));
      const uploads = wellFormed.map((id) => {
        const row = rows.get(id);
        if (!row || row.ownerId !== viewer.userId || row.roomId !== roomId) throw missing();
        if (row.messageId !== null) {
          throw badInput('An upload is attached to a message already', 'attachmentIds', 'UPLOAD_USED');
        }
        return row;
      });
      const attaching = await Promise.all(uploads.map((upload) => this.inspect(upload)));
      return {
        fields: {},
        inTransaction: async (tx, message) => {
          // Another send took one meanwhile: refused, and this message is not stored.
          if ((await this.deps.store.attach(tx, message.id, attaching)) !== attaching.length) {
            throw badInput('An upload is attached to a message already', 'attachmentIds', 'UPLOAD_USED');
          }
        },
        announce: (message) => {
          for (const upload of uploads) {
            if (upload.contentType.startsWith('image/')) this.deps.thumbnails.make(upload, message);
          }
        },
      };
    },
    deleting: async (tx, message) => {
      const keys = await this.deps.store.detachAll(tx, message.id);
      if (keys.length === 0) return null;
      return () =>
        void this.deps.storage
          .delete(keys)
          .catch((error: Error) =>
            this.deps.logger.warn('could not delete a deleted message’s files', { error, messageId: message.id }),
          );
    },
  };

  /** The checks on one upload's bytes: there, of the declared size, of the declared type; an image's size. */
  private async inspect(upload: UploadRow): Promise<Attaching> {
    const { storage } = this.deps;
    const stored = await storage.stat(upload.key);
    if (!stored) throw badInput(`The bytes of ${upload.filename} never arrived`, 'attachmentIds', 'UPLOAD_MISSING');
    if (stored.size !== upload.size) {
      throw badInput(
        `${upload.filename} has ${stored.size} bytes, not the ${upload.size} declared`,
        'attachmentIds',
        'UPLOAD_MISMATCH',
      );
    }
    const head = (await storage.head(upload.key, SNIFF_BYTES)) ?? Buffer.alloc(0);
    if (!(await contentMatches(upload.contentType, head))) {
      throw badInput(`The content of ${upload.filename} is not ${upload.contentType}`, 'attachmentIds', 'UPLOAD_MISMATCH');
    }
    let width: number | null = null;
    let height: number | null = null;
    if (upload.contentType.startsWith('image/')) {
      // The header is in the first bytes of most images; where it is not, the thumbnail's maker reads the size.
      const metadata = await sharp(head)
        .metadata()
        .catch(() => null);
      const size = metadata && uprightSize(metadata);
      width = size?.width ?? null;
      height = size?.height ?? null;
    }
    return { id: upload.id, width, height };
  }

  /** Each message's attachments, in order; none for a deleted message (its files are gone). */
  async ofMessages(messageIds: readonly string[]): Promise<UploadRow[][]> {
    const rows = await this.deps.store.ofMessages(messageIds);
    const byMessage = new Map<string, UploadRow[]>();
    for (const row of rows) {
      const list = byMessage.get(row.messageId!) ?? [];
      list.push(row);
      byMessage.set(row.messageId!, list);
    }
    return messageIds.map((id) => byMessage.get(id) ?? []);
  }

  /** A signed GET URL valid for at least ATTACHMENT_URL_TTL_SECONDS, the same for everyone within ten minutes. */
  url(upload: UploadRow, thumbnail = false): Promise<string> {
    const lifetime = this.deps.config.downloadUrlSeconds * 1000;
    const expiresAt = new Date(Math.ceil((this.deps.clock.now().getTime() + lifetime) / URL_GRID_MS) * URL_GRID_MS);
    return thumbnail
      ? this.deps.storage.downloadUrl(upload.thumbnailKey!, {
          contentType: 'image/webp',
          filename: `${upload.filename}.webp`,
          expiresAt,
        })
      : this.deps.storage.downloadUrl(upload.key, { contentType: upload.contentType, filename: upload.filename, expiresAt });
  }

  /** Deletes unused uploads older than their lifetime, in batches, until none is left (or another instance sweeps). */
  async sweep(): Promise<number> {
    const cutoff = new Date(this.deps.clock.now().getTime() - this.deps.config.unusedSeconds * 1000);
    let deleted = 0;
    for (;;) {
      const keys = await this.deps.store.sweep(cutoff, 500);
      if (keys.length === 0) return deleted;
      await this.deps.storage.delete(keys);
      deleted += keys.length;
    }
  }
}

/** Control characters and the direction marks and overrides that make "gpj.exe" show as "exe.jpg". */
// eslint-disable-next-line no-control-regex
const UNSHOWN = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The contract's filename: 1-255 characters, no path separators. Control
 * characters are dropped and the name trimmed and NFC-normalised; a name that
 * is empty then, a dot name, or one with / or \ is refused.
 */
export function sanitiseFilename(name: string): string {
  requireLength('filename', name, 1, 255);
  if (/[/\\]/.test(name)) throw badInput('filename must not contain / or \\', 'filename');
  const clean = name.replace(UNSHOWN, '').trim().normalize('NFC');
  if (clean === '' || clean === '.' || clean === '..') throw badInput('filename must name a file', 'filename');
  return clean;
}

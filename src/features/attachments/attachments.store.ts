import { and, asc, count, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../../db/client.js';
import { uploads, type UploadRow } from '../../db/schema.js';

export type NewUpload = Pick<UploadRow, 'id' | 'ownerId' | 'roomId' | 'filename' | 'contentType' | 'size' | 'key' | 'createdAt'>;

/** What an attached upload gets at the send: its place among the message's attachments, an image's size. */
export interface Attaching {
  readonly id: string;
  readonly width: number | null;
  readonly height: number | null;
}

export class AttachmentsStore {
  constructor(private readonly db: Database) {}

  /**
   * Records a pending upload unless its owner holds `limit` unused ones
   * already: counted under a per-user advisory lock, so two createUploads
   * racing cannot both take the last place. False when at the limit.
   */
  async createPending(upload: NewUpload, limit: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${UPLOAD_LOCK}, hashtext(${upload.ownerId}))`);
      if ((await this.pendingCount(upload.ownerId, tx)) >= limit) return false;
      await tx.insert(uploads).values(upload);
      return true;
    });
  }

  async pendingCount(ownerId: string, db: Database = this.db): Promise<number> {
    const [row] = await db
      .select({ n: count() })
      .from(uploads)
      .where(and(eq(uploads.ownerId, ownerId), isNull(uploads.messageId)));
    return row?.n ?? 0;
  }

  /** A user's unused uploads created before `before`, oldest first. */
  pendingBefore(ownerId: string, before: Date, limit: number): Promise<UploadRow[]> {
    return this.db
      .select()
      .from(uploads)
      .where(and(eq(uploads.ownerId, ownerId), isNull(uploads.messageId), lt(uploads.createdAt, before)))
      .orderBy(asc(uploads.createdAt))
      .limit(limit);
  }

  findByIds(ids: readonly string[]): Promise<UploadRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(uploads)
      .where(inArray(uploads.id, [...ids]));
  }

  /**
   * Attaches the uploads to the message in the send's transaction, in the
   * order given: only those still unused, so an upload two sends race for
   * goes to one. How many were attached.
   */
  async attach(tx: Database, messageId: string, attaching: readonly Attaching[]): Promise<number> {
    let attached = 0;
    for (const [position, upload] of attaching.entries()) {
      const rows = await tx
        .update(uploads)
        .set({ messageId, position, width: upload.width, height: upload.height })
        .where(and(eq(uploads.id, upload.id), isNull(uploads.messageId)))
        .returning({ id: uploads.id });
      attached += rows.length;
    }
    return attached;
  }

  /** Each message's attachments in order. */
  ofMessages(messageIds: readonly string[]): Promise<UploadRow[]> {
    if (messageIds.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(uploads)
      .where(inArray(uploads.messageId, [...messageIds]))
      .orderBy(asc(uploads.messageId), asc(uploads.position));
  }

  /** Deletes a message's attachments in its deletion's transaction; the storage keys to delete after the commit. */
  async detachAll(tx: Database, messageId: string): Promise<string[]> {
    const rows = await tx
      .delete(uploads)
      .where(eq(uploads.messageId, messageId))
      .returning({ key: uploads.key, thumbnailKey: uploads.thumbnailKey });
    return rows.flatMap((row) => (row.thumbnailKey ? [row.key, row.thumbnailKey] : [row.key]));
  }

  /** Deletes these unused uploads (never one attached meanwhile); the keys of those deleted. */
  async deletePending(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .delete(uploads)
      .where(and(inArray(uploads.id, [...ids]), isNull(uploads.messageId)))
      .returning({ key: uploads.key });
    return rows.map((row) => row.key);
  }

  /**
   * Deletes up to `batch` unused uploads created before `cutoff`, oldest
   * first, and returns their keys. One instance at a time: a
   * transaction-scoped advisory lock that another sweeping instance does not
   * wait for (it sweeps next time).
   */
  async sweep(cutoff: Date, batch: number): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const [lock] = rowsOf<{ locked: boolean }>(
        await tx.execute(sql`select pg_try_advisory_xact_lock(${SWEEP_LOCK}) as locked`),
      );
      if (!lock?.locked) return [];
      const rows = await tx
        .delete(uploads)
        .where(
          inArray(
            uploads.id,
            tx
              .select({ id: uploads.id })
              .from(uploads)
              .where(and(isNull(uploads.messageId), lt(uploads.createdAt, cutoff)))
              .orderBy(asc(uploads.createdAt))
              .limit(batch),
          ),
        )
        .returning({ key: uploads.key });
      return rows.map((row) => row.key);
    });
  }

  /** Records an image's thumbnail (and its size, when the send could not read it); false when the upload is gone. */
  async setThumbnail(id: string, thumbnailKey: string, size: { width: number; height: number } | null): Promise<boolean> {
    const rows = await this.db
      .update(uploads)
      .set(size ? { thumbnailKey, ...size } : { thumbnailKey })
      .where(eq(uploads.id, id))
      .returning({ id: uploads.id });
    return rows.length > 0;
  }
}

/** Advisory lock keys (constants no other lock uses): the per-user pending count, the unused-upload sweep. */
const UPLOAD_LOCK = 2_300_001;
const SWEEP_LOCK = 2_300_002;

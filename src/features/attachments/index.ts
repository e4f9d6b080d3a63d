import DataLoader from 'dataloader';
import type { UploadRow } from '../../db/schema.js';
import type { BlockingService } from '../blocking/blocking.service.js';
import { defineFeature } from '../feature.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { attachmentsResolvers } from './attachments.resolvers.js';
import { AttachmentsService } from './attachments.service.js';
import { AttachmentsStore } from './attachments.store.js';
import { openStorage } from './storage/index.js';
import { Thumbnails } from './thumbnails.js';

/**
 * Attachments: createUpload, attachmentIds on sendMessage (which this
 * feature extends), Message.attachments; the storage (S3 or the embedded
 * disk, whose HTTP side the transport mounts at /files/), thumbnails, and
 * the sweep of unused uploads.
 */
export const attachmentsFeature = defineFeature({
  name: 'attachments',
  resolvers: attachmentsResolvers,
  mappers: { Attachment: 'AttachmentModel' },
  services: (
    { db, config, realtime, clock, logger, origin },
    { rooms, messages, blocking }: { rooms: RoomsService; messages: MessagesService; blocking: BlockingService },
  ) => {
    const storage = openStorage(config.attachments, origin, clock);
    const store = new AttachmentsStore(db);
    const thumbnails = new Thumbnails({
      store,
      storage,
      publish: realtime.publish,
      logger,
      message: async (id) => (await messages.findByIds([id]))[0] ?? null,
    });
    const attachments = new AttachmentsService({
      ...{ store, storage, rooms, blocking, thumbnails, clock, logger },
      config: config.attachments,
    });
    messages.extend(attachments.extension);
    return { attachments, storage, thumbnails };
  },
  loaders: ({ attachments }) => ({
    attachments: new DataLoader<string, UploadRow[]>((ids) => attachments.ofMessages(ids)),
  }),
  // A message's attachments (at most 10, most messages none) come from one batched query per page, their URLs
  // signed in process: counted once per message, as the page of messages they are in already multiplies.
  listSizes: { 'Message.attachments': { unasked: 1 } },
  // Unused uploads past their lifetime: each instance sweeps now and then, one at a time (an advisory lock).
  listen: ({ attachments, storage }, { realtime, logger, config }) => {
    const sweep = () =>
      void attachments.sweep().catch((error: Error) => logger.warn('could not sweep unused uploads', { error }));
    const timer = setInterval(sweep, config.attachments.sweepMs);
    timer.unref();
    realtime.hooks.on('stopping', () => {
      clearInterval(timer);
      storage.close?.();
    });
  },
});

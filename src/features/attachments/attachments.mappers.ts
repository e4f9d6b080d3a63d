import type { UploadRow } from '../../db/schema.js';

/** Attachment: an attached upload's row; its URLs are signed when asked for. */
export type AttachmentModel = UploadRow;

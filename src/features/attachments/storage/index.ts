import type { Clock } from '../../../clock.js';
import type { AttachmentsConfig } from '../attachments.config.js';
import { DiskStorage } from './disk.js';
import { S3Storage } from './s3.js';
import type { Storage } from './storage.js';

/** The configured storage: the S3 bucket when S3_BUCKET is set, the embedded disk otherwise. */
export function openStorage(config: AttachmentsConfig, origin: () => string, clock: Clock): Storage {
  if (config.storage.kind === 's3') return new S3Storage(config.storage);
  return new DiskStorage(config.storage.dir, origin, () => clock.now());
}

import type { IncomingMessage, ServerResponse } from 'node:http';

/** A header the client must send with its PUT, exactly as given. */
export interface RequiredHeader {
  readonly name: string;
  readonly value: string;
}

/** Where and how a client PUTs an upload's bytes. */
export interface UploadTarget {
  readonly url: string;
  readonly headers: readonly RequiredHeader[];
}

/** What the upload's PUT is bound to: its declared type and exact length, until `expiresAt`. */
export interface UploadSpec {
  readonly contentType: string;
  readonly size: number;
  readonly expiresAt: Date;
}

/** What a download URL serves, until `expiresAt`. */
export interface DownloadSpec {
  readonly contentType: string;
  /** For Content-Disposition (inline; the browser's save name). */
  readonly filename: string;
  readonly expiresAt: Date;
}

/**
 * Where attachments' bytes live: an S3-compatible bucket (s3.ts) or the
 * embedded disk (disk.ts). Clients PUT and GET at the URLs it signs; the
 * server reads only what it checks (stat, the first bytes, an image to
 * thumbnail) and writes only thumbnails. Keys are ours (upload ids), never a
 * client's text.
 */
export interface Storage {
  /** "s3" or "disk", for the start-up log. */
  readonly kind: 's3' | 'disk';
  /** A URL to PUT the bytes to, bound to the spec's type and length, and the headers the PUT must carry. */
  uploadTarget(key: string, spec: UploadSpec): Promise<UploadTarget>;
  /** A signed GET URL of the object. */
  downloadUrl(key: string, spec: DownloadSpec): Promise<string>;
  /** The stored object's size; null when there is none. */
  stat(key: string): Promise<{ size: number } | null>;
  /** The object's first `bytes` bytes (fewer when it is shorter); null when there is none. */
  head(key: string, bytes: number): Promise<Buffer | null>;
  /** The whole object; null when there is none. */
  read(key: string): Promise<Buffer | null>;
  /** Stores an object the server made (a thumbnail). */
  write(key: string, body: Buffer, contentType: string): Promise<void>;
  /** Deletes objects; keys that name none are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * The disk storage's HTTP side (PUT and GET at its signed URLs): true when
   * the request was its to answer. Absent for storages clients reach directly.
   */
  serve?(req: IncomingMessage, res: ServerResponse): boolean;
  /** The origins browsers PUT to and load from (for the page's CSP). */
  readonly origins: readonly string[];
  /** Lets go of what it holds open (an S3 client's sockets) when the app stops. */
  close?(): void;
}

import { fileTypeFromBuffer } from 'file-type';

/** How many first bytes the sniffing reads (file-type's own need, with room for an image's header). */
export const SNIFF_BYTES = 64 * 1024;

/**
 * Media types whose content sniffs as one of several (an animated PNG as
 * image/apng, Ogg Opus as audio/opus, a WebM with or without video).
 * Any other declared type must sniff as itself.
 */
const SNIFFS_AS: Readonly<Record<string, readonly string[]>> = {
  'image/png': ['image/png', 'image/apng'],
  'audio/ogg': ['audio/ogg', 'audio/opus'],
  'audio/webm': ['audio/webm', 'video/webm'],
  'video/webm': ['video/webm', 'audio/webm'],
  'video/mp4': ['video/mp4', 'audio/mp4'],
};

/**
 * Whether the first bytes of a file are what its declared type says, by
 * file-type's signatures. Text has no signature: a text/* file matches when
 * its bytes sniff as no binary format and hold no NUL.
 */
export async function contentMatches(declared: string, head: Buffer): Promise<boolean> {
  const sniffed = await fileTypeFromBuffer(head);
  if (declared.startsWith('text/')) return sniffed === undefined && !head.includes(0);
  return sniffed !== undefined && (SNIFFS_AS[declared] ?? [declared]).includes(sniffed.mime);
}

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvReader } from '../env-reader.js';

/**
 * The client kit's manifest (client/generated/persisted-documents.json, written by `npm run codegen`):
 * the same path from src/transport/ and from dist/transport/.
 */
export const KIT_MANIFEST = fileURLToPath(new URL('../../client/generated/persisted-documents.json', import.meta.url));

/**
 * `accept`: a request may send its document as text, as a `documentId`, or as Apollo's APQ hash (and
 * register a new one by sending it with its text). `only`: nothing runs but a document of the manifests.
 */
export type TrustedDocumentsMode = 'accept' | 'only';

const MODES: readonly TrustedDocumentsMode[] = ['accept', 'only'];

export interface TrustedDocumentsConfig {
  /** `TRUSTED_DOCUMENTS` @default 'accept' */
  readonly mode: TrustedDocumentsMode;
  /**
   * The manifests loaded at start: the kit's, then those of `TRUSTED_DOCUMENTS_MANIFEST` (comma-separated
   * paths, relative to the working directory), as absolute paths.
   * @default [KIT_MANIFEST]
   */
  readonly manifests: readonly string[];
}

/** `TRUSTED_DOCUMENTS` and `TRUSTED_DOCUMENTS_MANIFEST`; the manifests themselves are read at start (trusted-documents.ts). */
export function parseTrustedDocumentsConfig({ value, problems }: EnvReader, cwd: string) {
  const mode = value('TRUSTED_DOCUMENTS') ?? 'accept';
  if (!MODES.includes(mode as TrustedDocumentsMode)) {
    problems.push(`TRUSTED_DOCUMENTS must be one of ${MODES.join(', ')}, got "${mode}"`);
  }
  const extra = (value('TRUSTED_DOCUMENTS_MANIFEST') ?? '')
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '')
    .map((path) => resolve(cwd, path));
  const trustedDocuments: TrustedDocumentsConfig = Object.freeze({
    mode: mode as TrustedDocumentsMode,
    manifests: Object.freeze([KIT_MANIFEST, ...extra.filter((path) => path !== KIT_MANIFEST)]),
  });
  return { trustedDocuments };
}

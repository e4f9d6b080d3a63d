import type { DocumentNode } from 'graphql';

/**
 * A document's trusted-document id, `sha256:<hex>` of its normalised text,
 * which codegen's client preset puts in `__meta__.hash` of every document it
 * generates (the kit's included; `client/generated/persisted-documents.json`
 * maps each id to its text, and the server loads that manifest at start).
 * undefined for a document without one (one parsed at run time).
 */
export function documentIdOf(document: DocumentNode): string | undefined {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  return typeof hash === 'string' ? hash : undefined;
}

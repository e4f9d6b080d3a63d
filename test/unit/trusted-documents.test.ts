import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLError } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema.js';
import { KIT_MANIFEST, type TrustedDocumentsMode } from '../../src/transport/trusted-documents.config.js';
import { loadTrustedDocuments, TrustedDocumentsError, type TrustedDocuments } from '../../src/transport/trusted-documents.js';

const schema = buildSchema();
const dir = mkdtempSync(join(tmpdir(), 'chat-trusted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (text: string) => createHash('sha256').update(text).digest('hex');
const idOf = (text: string) => `sha256:${hex(text)}`;
let files = 0;
/** A manifest file holding `content` (an object written as JSON, or text as it is). */
const manifest = (content: unknown) => {
  const path = join(dir, `manifest-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const load = (manifests: string[], mode: TrustedDocumentsMode = 'accept') => loadTrustedDocuments({ mode, manifests }, schema);
/** The one-line message a manifest is refused with. */
const refusal = (manifests: string[]) => {
  try {
    load(manifests);
  } catch (error) {
    expect(error).toBeInstanceOf(TrustedDocumentsError);
    return (error as Error).message;
  }
  throw new Error('the manifest was accepted');
};
/** What resolve() throws: the GraphQL error's code and message. */
const thrown = (trusted: TrustedDocuments, params: Parameters<TrustedDocuments['resolve']>[0]) => {
  try {
    trusted.resolve(params);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return { code: (error as GraphQLError).extensions.code, message: (error as GraphQLError).message };
  }
  throw new Error('resolve() did not throw');
};
const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

const ME = 'query Me { me { id } }';
const ROOMS = 'query Rooms { myRooms { id } }';

describe('loadTrustedDocuments', () => {
  it('loads the kit’s manifest: each document answers to its documentId and its APQ hash', () => {
    const kit = JSON.parse(readFileSync(KIT_MANIFEST, 'utf8')) as Record<string, string>;
    const trusted = load([KIT_MANIFEST]);
    expect(trusted.size).toBe(Object.keys(kit).length);
    expect(trusted.size).toBeGreaterThan(50);
    for (const [id, text] of Object.entries(kit)) {
      expect(id).toBe(idOf(text));
      expect(trusted.resolve({ documentId: id })).toBe(text);
      expect(trusted.resolve({ extensions: apq(hex(text)) })).toBe(text);
    }
  });

  it('reads Apollo’s persisted query manifest too; a manifest’s own id and the sha256 id both name its document', () => {
    const apollo = manifest({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: 'rooms-v1', name: 'Rooms', type: 'query', body: ROOMS }],
    });
    const custom = manifest({ 'me-v1': ME });
    const trusted = load([apollo, custom], 'only');
    expect(trusted.size).toBe(2);
    expect(trusted.resolve({ documentId: 'rooms-v1' })).toBe(ROOMS);
    expect(trusted.resolve({ documentId: idOf(ROOMS) })).toBe(ROOMS);
    expect(trusted.resolve({ documentId: 'me-v1' })).toBe(ME);
    expect(trusted.resolve({ extensions: apq(hex(ME)) })).toBe(ME);
  });

  it('refuses a manifest it cannot trust with one line naming the file and the problem', () => {
    const missing = join(dir, 'missing.json');
    // A path outside the working directory is shown whole (one inside it, relative to it).
    const shown = (path: string) => path;
    const cases: Array<[string, string]> = [
      [missing, `the trusted documents manifest ${shown(missing)} cannot be read (ENOENT)`],
      [manifest('{"a": '), 'is not JSON'],
      [manifest(['query { me { id } }']), 'must be an object of ids and document texts'],
      [manifest({ a: 42 }), 'must be an object of ids and document texts'],
      [manifest({ format: 'apollo-persisted-query-manifest', operations: [{ id: 'x' }] }), 'must be an object of ids'],
      [manifest({ [idOf(`${ME} `)]: ME }), `the trusted document "${idOf(`${ME} `)}" of`],
      [manifest({ x: 'query {' }), 'does not parse: Syntax Error: Expected Name, found <EOF>.'],
      [manifest({ x: '{ nope }' }), 'does not validate against the served schema: Cannot query field "nope" on type "Query".'],
    ];
    for (const [path, expected] of cases) {
      const message = refusal([path]);
      expect(message).toContain(expected);
      expect(message).toContain(shown(path));
      expect(message).not.toContain('\n');
    }
    expect(refusal([manifest({ [idOf(`${ME} `)]: ME })])).toMatch(/is not the SHA-256 of its text$/);
  });

  it('refuses an id that names two different documents, in one manifest or across two', () => {
    const first = manifest({ 'me-v1': ME });
    const second = manifest({ 'me-v1': ROOMS });
    expect(refusal([first, second])).toBe(`the trusted document id "me-v1" names two different documents (${first}, ${second})`);
    // The same document under two ids, or twice, is fine.
    expect(load([first, manifest({ 'me-v2': ME }), first]).size).toBe(1);
  });
});

describe('TrustedDocuments.resolve', () => {
  const path = manifest({ [idOf(ME)]: ME });

  it('accept: lets text through, registers an APQ hash sent with its text, and refuses a hash that does not match', () => {
    const trusted = load([path]);
    expect(trusted.resolve({ query: '{ me { username } }' })).toBeNull();
    const text = '{ me { username } }';
    expect(thrown(trusted, { extensions: apq(hex(text)) })).toEqual({
      code: 'PERSISTED_QUERY_NOT_FOUND',
      message: 'PersistedQueryNotFound',
    });
    expect(trusted.resolve({ query: text, extensions: apq(hex(text)) })).toBeNull();
    expect(trusted.resolve({ extensions: apq(hex(text)) })).toBe(text);
    expect(trusted.resolve({ documentId: idOf(text) })).toBe(text);
    expect(thrown(trusted, { query: text, extensions: apq(hex('other')) }).code).toBe('BAD_REQUEST');
    expect(thrown(trusted, { extensions: { persistedQuery: { version: 2, sha256Hash: hex(text) } } }).code).toBe('BAD_REQUEST');
  });

  it('accept: keeps the 2,000 most recently used registrations', () => {
    const trusted = load([path]);
    const texts = Array.from({ length: 2001 }, (_, i) => `{ me { id } } # ${i}`);
    trusted.resolve({ query: texts[0], extensions: apq(hex(texts[0]!)) });
    trusted.resolve({ query: texts[1], extensions: apq(hex(texts[1]!)) });
    expect(trusted.resolve({ extensions: apq(hex(texts[0]!)) })).toBe(texts[0]); // used: now the newest
    for (const text of texts.slice(2)) trusted.resolve({ query: text, extensions: apq(hex(text)) });
    expect(trusted.resolve({ extensions: apq(hex(texts[0]!)) })).toBe(texts[0]);
    expect(thrown(trusted, { extensions: apq(hex(texts[1]!)) }).code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // The manifest's documents are never dropped.
    expect(trusted.resolve({ documentId: idOf(ME) })).toBe(ME);
  });

  it('only: runs the manifest’s documents, by id, hash or their exact text, and refuses anything else naming the setting', () => {
    const trusted = load([path], 'only');
    expect(trusted.resolve({ query: ME })).toBeNull();
    expect(trusted.resolve({ query: ME, extensions: apq(hex(ME)) })).toBeNull();
    expect(trusted.resolve({ query: '', documentId: idOf(ME) })).toBe(ME);
    const other = `${ME} `;
    for (const params of [{ query: other }, { query: other, extensions: apq(hex(other)) }]) {
      expect(thrown(trusted, params)).toEqual({
        code: 'PERSISTED_QUERY_NOT_IN_LIST',
        message: expect.stringContaining('(TRUSTED_DOCUMENTS=only)') as string,
      });
    }
    expect(thrown(trusted, { extensions: apq(hex(other)) }).code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(thrown(trusted, { documentId: 'nope' }).message).toBe(
      'No trusted document has the documentId "nope"; this server runs only trusted documents (TRUSTED_DOCUMENTS=only)',
    );
  });
});

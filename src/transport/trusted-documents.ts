import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';
import type { TrustedDocumentsConfig, TrustedDocumentsMode } from './trusted-documents.config.js';

/**
 * Trusted documents: GraphQL documents known to the server before any
 * request, from manifests loaded at start (the kit's, written by codegen's
 * client preset, and any an operator adds), each parsed and validated
 * against the served schema once, there.
 *
 * A request names one in either of two ways, over every transport (HTTP GET
 * and POST, SSE, multipart, and a graphql-ws `subscribe` payload):
 * - `documentId`: GraphQL over HTTP's persisted documents (its Appendix A),
 *   `sha256:<hex>` of the document's text, or a manifest's own id;
 * - `extensions.persistedQuery.sha256Hash`: Apollo's automatic persisted
 *   queries (APQ), as Apollo Client's PersistedQueryLink and urql's
 *   persistedExchange send it. Sent with the text, the hash registers the text
 *   (once its SHA-256 is checked) for later requests that send the hash alone;
 *   an unknown hash alone answers `PersistedQueryNotFound`, on which those
 *   clients send the text.
 * Either way the request then runs exactly as if it had sent that text: the
 * same parse and validation caches, limits, rate limits, auth, metrics and
 * log line.
 *
 * Under `TRUSTED_DOCUMENTS=only` nothing else runs: a text that is not one of
 * the manifests' (byte for byte), an APQ registration of one, and an id or a
 * hash no manifest has are refused with PERSISTED_QUERY_NOT_IN_LIST.
 */
export interface TrustedDocuments {
  readonly mode: TrustedDocumentsMode;
  /** How many documents the manifests hold. */
  readonly size: number;
  /**
   * The text a request's parameters name, when they name one by `documentId`
   * or APQ hash; null when the request is to run as it is (its own `query`,
   * perhaps none: yoga or the socket then refuses it as before).
   * @throws GraphQLError, a refusal to answer the request with
   */
  resolve(params: DocumentParams): string | null;
}

/** What names a request's document: GraphQL over HTTP's parameters, or a graphql-ws `subscribe` payload. */
export interface DocumentParams {
  readonly query?: unknown;
  readonly documentId?: unknown;
  readonly extensions?: unknown;
}

/** A manifest that cannot be trusted: the server does not start, and says why in this one line (main.ts). */
export class TrustedDocumentsError extends Error {
  readonly code = 'TRUSTED_DOCUMENTS_INVALID';
}

/** An unknown id or hash while other documents may run (APQ clients send the text on this one, by message or code). */
export const NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND';
/** A document refused under TRUSTED_DOCUMENTS=only. */
export const NOT_IN_LIST = 'PERSISTED_QUERY_NOT_IN_LIST';

/**
 * APQ registrations kept per instance, least recently used dropped first:
 * at most this many documents, and this many characters of text in all
 * (bodies may be up to MAX_BODY_BYTES each). Another instance that does not
 * know a hash answers PersistedQueryNotFound and the client registers it
 * there too.
 */
const REGISTERED_DOCUMENTS = 2000;
const REGISTERED_CHARACTERS = 8 * 1024 * 1024;

const SHA256 = 'sha256:';

export function sha256Id(text: string): string {
  return SHA256 + createHash('sha256').update(text).digest('hex');
}

/**
 * Reads every manifest of `config` and checks each document: the text of a
 * `sha256:` id must hash to it, it must parse and validate against `schema`
 * (the served one), and an id may not name two different texts.
 * @throws TrustedDocumentsError for the first problem found
 */
export function loadTrustedDocuments(config: TrustedDocumentsConfig, schema: GraphQLSchema): TrustedDocuments {
  /** Every id a document answers to (its manifest's, and its sha256 id) -> its text. */
  const byId = new Map<string, string>();
  /** Where each id was found, for the message about an id used twice. */
  const foundIn = new Map<string, string>();
  const texts = new Set<string>();
  const refuse = (message: string): never => {
    throw new TrustedDocumentsError(message);
  };
  for (const path of config.manifests) {
    const shown = shownPath(path);
    for (const [id, text] of readManifest(path, shown)) {
      const where = `the trusted document "${clip(id)}" of ${shown}`;
      if (id.startsWith(SHA256) && sha256Id(text) !== id) refuse(`${where} is not the SHA-256 of its text`);
      if (!texts.has(text)) {
        const problem = documentProblem(text, schema);
        if (problem) refuse(`${where} ${problem}`);
        texts.add(text);
      }
      for (const name of new Set([id, sha256Id(text)])) {
        const known = byId.get(name);
        if (known !== undefined && known !== text) {
          refuse(`the trusted document id "${clip(name)}" names two different documents (${foundIn.get(name)}, ${shown})`);
        }
        byId.set(name, text);
        foundIn.set(name, shown);
      }
    }
  }
  return new Manifests(config.mode, byId, texts);
}

/** What is wrong with a document's text, or null: it parses and validates against the schema. */
function documentProblem(text: string, schema: GraphQLSchema): string | null {
  let document: DocumentNode;
  try {
    document = parse(text);
  } catch (error) {
    return `does not parse: ${firstLine(error)}`;
  }
  const errors = validate(schema, document);
  return errors.length > 0 ? `does not validate against the served schema: ${firstLine(errors[0])}` : null;
}

/**
 * A manifest's documents as [id, text]: either an object of ids and texts
 * (codegen's client preset's persisted-documents.json, Relay's and Hive's
 * form) or Apollo's persisted query manifest (`format`
 * "apollo-persisted-query-manifest", `operations: [{ id, body }]`).
 */
function readManifest(path: string, shown: string): Array<[string, string]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TrustedDocumentsError(
      `the trusted documents manifest ${shown} cannot be read (${code}): check TRUSTED_DOCUMENTS_MANIFEST, or run npm run codegen for the kit's`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TrustedDocumentsError(`the trusted documents manifest ${shown} is not JSON: ${firstLine(error)}`);
  }
  const entries = manifestEntries(json);
  if (!entries) {
    throw new TrustedDocumentsError(
      `the trusted documents manifest ${shown} must be an object of ids and document texts ({"sha256:…": "query …"}) ` +
        "or Apollo's persisted query manifest",
    );
  }
  return entries;
}

function manifestEntries(json: unknown): Array<[string, string]> | null {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return null;
  const object = json as Record<string, unknown>;
  if (object.format === 'apollo-persisted-query-manifest') {
    if (!Array.isArray(object.operations)) return null;
    const entries: Array<[string, string]> = [];
    for (const operation of object.operations as unknown[]) {
      const { id, body } = (operation ?? {}) as { id?: unknown; body?: unknown };
      if (typeof id !== 'string' || id === '' || typeof body !== 'string') return null;
      entries.push([id, body]);
    }
    return entries;
  }
  const entries = Object.entries(object);
  return entries.every(([id, text]) => id !== '' && typeof text === 'string') ? (entries as Array<[string, string]>) : null;
}

/** The manifests' documents, and in `accept` mode the APQ registrations of this instance. */
class Manifests implements TrustedDocuments {
  private readonly registered = new RegisteredDocuments(REGISTERED_DOCUMENTS, REGISTERED_CHARACTERS);

  constructor(
    readonly mode: TrustedDocumentsMode,
    private readonly byId: ReadonlyMap<string, string>,
    private readonly texts: ReadonlySet<string>,
  ) {}

  get size(): number {
    return this.texts.size;
  }

  resolve({ query, documentId, extensions }: DocumentParams): string | null {
    const hash = apqHashOf(extensions);
    // A graphql-ws client must send a `query` string; with an id or a hash an empty one stands for none.
    const text = typeof query === 'string' && query !== '' ? query : null;
    if (documentId !== undefined && documentId !== null) {
      if (typeof documentId !== 'string' || documentId === '') throw badRequest('documentId must be a non-empty string.');
      if (text !== null) throw badRequest('Send the document either as `query` or as `documentId`, not both.');
      if (hash !== null) throw badRequest('Name the document either by `documentId` or by extensions.persistedQuery, not both.');
      return this.lookup(documentId) ?? this.unknown(`the documentId "${clip(documentId)}"`);
    }
    if (hash !== null) {
      const id = SHA256 + hash;
      if (text === null) return this.lookup(id) ?? this.unknown(`the hash "${clip(hash)}"`, 'PersistedQueryNotFound');
      if (sha256Id(text) !== id) throw badRequest('extensions.persistedQuery.sha256Hash is not the SHA-256 of the query.');
      if (this.texts.has(text)) return null;
      if (this.mode === 'only') throw notInList();
      this.registered.set(id, text);
      return null;
    }
    if (this.mode === 'only' && typeof query === 'string' && !this.texts.has(query)) throw notInList();
    return null;
  }

  private lookup(id: string): string | undefined {
    return this.byId.get(id) ?? (this.mode === 'accept' ? this.registered.get(id) : undefined);
  }

  private unknown(what: string, apqMessage?: string): never {
    if (this.mode === 'only') {
      throw documentError(
        `No trusted document has ${what}; this server runs only trusted documents (TRUSTED_DOCUMENTS=only)`,
        NOT_IN_LIST,
      );
    }
    // Apollo Client and urql recognise the miss by this exact message (urql) or the code (Apollo).
    throw documentError(apqMessage ?? `No trusted document has ${what}`, NOT_FOUND);
  }
}

/**
 * `extensions.persistedQuery.sha256Hash` of an APQ request, or null when
 * there is no persistedQuery; refuses one that is not APQ's version 1.
 */
function apqHashOf(extensions: unknown): string | null {
  if (extensions === null || typeof extensions !== 'object') return null;
  const persisted = (extensions as { persistedQuery?: unknown }).persistedQuery;
  if (persisted === undefined || persisted === null) return null;
  const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1 || typeof sha256Hash !== 'string' || sha256Hash === '') {
    throw badRequest('extensions.persistedQuery must be { "version": 1, "sha256Hash": "<hex>" }.');
  }
  return sha256Hash;
}

const notInList = () =>
  documentError(
    'This server runs only trusted documents (TRUSTED_DOCUMENTS=only) and this document is not one of them: ' +
      'send the documentId of a document of its manifest',
    NOT_IN_LIST,
  );

/**
 * A document refused before it is parsed, answered as a document that does
 * not parse is: 200 for application/json, 400 for graphql-response+json.
 */
function documentError(message: string, code: string): GraphQLError {
  return createGraphQLError(message, { extensions: { code, http: { status: 400, spec: true } } });
}

/** A request that is not well formed: 400 whatever the media type, as yoga's own BAD_REQUEST. */
function badRequest(message: string): GraphQLError {
  return createGraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

/** An LRU of id -> text bounded by count and by total length. */
class RegisteredDocuments {
  private readonly texts = new Map<string, string>();
  private characters = 0;

  constructor(
    private readonly maxDocuments: number,
    private readonly maxCharacters: number,
  ) {}

  get(id: string): string | undefined {
    const text = this.texts.get(id);
    if (text === undefined) return undefined;
    // Map keeps insertion order: the entry moves to the newest end.
    this.texts.delete(id);
    this.texts.set(id, text);
    return text;
  }

  set(id: string, text: string): void {
    if (text.length > this.maxCharacters) return;
    const old = this.texts.get(id);
    if (old !== undefined) {
      this.texts.delete(id);
      this.characters -= old.length;
    }
    this.texts.set(id, text);
    this.characters += text.length;
    for (const [oldest, oldText] of this.texts) {
      if (this.texts.size <= this.maxDocuments && this.characters <= this.maxCharacters) break;
      this.texts.delete(oldest);
      this.characters -= oldText.length;
    }
  }
}

/**
 * Trusted documents over HTTP (GET, POST, SSE and multipart alike): a
 * request that names its document by `documentId` (a body field, or a GET
 * parameter, which yoga's parser leaves out) or by APQ hash goes on with
 * that text as its `query`, before yoga checks the parameters; a refusal is
 * its answer.
 */
export function useTrustedDocuments(trusted: TrustedDocuments): Plugin {
  return {
    onParams({ params, request, setParams }) {
      const given = params as GraphQLParams & { documentId?: unknown };
      const documentId = given.documentId ?? (request.method === 'GET' ? documentIdParameter(request.url) : undefined);
      const text = trusted.resolve({ query: given.query, documentId, extensions: given.extensions });
      if (text === null) return;
      // Without documentId, which yoga would refuse as an unknown parameter.
      setParams({ query: text, operationName: given.operationName, variables: given.variables, extensions: given.extensions });
    },
  };
}

function documentIdParameter(url: string): string | undefined {
  const start = url.indexOf('?');
  if (start < 0 || !url.includes('documentId=', start)) return undefined;
  return new URLSearchParams(url.slice(start + 1)).get('documentId') || undefined;
}

function shownPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown === '' || shown.startsWith('..') ? path : shown;
}

function firstLine(error: unknown): string {
  return String((error as Error | undefined)?.message ?? error).split('\n')[0]!;
}

/** An id or hash as a message quotes it: whatever a client sent, cut short. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

import { expect } from 'vitest';
import type { App } from '../support/server.js';
import { RawSocket } from './socket.js';

/**
 * What the contract allows an answer to bad input to be, as checks that
 * return the problems they find (empty: fine), so one property can report
 * every rule a single answer breaks.
 */

/** The contract's own codes. */
export const CONTRACT_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
];

/**
 * Refusals before any resolver runs: yoga's parse and validation codes, its
 * HTTP-level BAD_REQUEST, its code for an operationName that names no
 * operation, and its 413 code. The operation limits (graphql-armor) refuse
 * through validation and parsing, so they carry yoga's codes; a limit plugin
 * that names a code of its own adds it here: trusted documents' (an unknown
 * documentId or APQ hash, and a document TRUSTED_DOCUMENTS=only refuses).
 */
export const REFUSAL_CODES = [
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'REQUEST_ENTITY_TOO_LARGE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_IN_LIST',
];

export const ALLOWED_CODES = new Set([...CONTRACT_CODES, ...REFUSAL_CODES]);

/** Keys that carry internals: yoga's dev-mode and masking markers, stacks, Postgres error fields, Node system errors. */
const INTERNAL_KEYS = new Set([
  'originalError',
  'unexpected',
  'stack',
  'stacktrace',
  'exception',
  'severity',
  'severity_local',
  'routine',
  'schema_name',
  'table_name',
  'column_name',
  'constraint_name',
  'data_type_name',
  'internal_query',
  'internal_position',
  'sqlState',
  'errno',
  'syscall',
]);

/** Text that only an internal error would put in a message. */
const INTERNAL_TEXT: Array<[string, RegExp]> = [
  ['a stack frame', /\n\s+at |\bat (?:async )?[\w$.<>]+ \((?:file:|node:|\/)/],
  ['a file path', /file:\/\/|node_modules|(?:^|[\s("'])(?:\/[\w.@-]+){2,}\.(?:[cm]?js|ts)\b/],
  ['SQL', /\b(?:select|insert|update|delete)\b[\s\S]{1,200}\b(?:from|into|set|where|returning)\b/i],
  [
    'a Postgres error',
    /duplicate key value|violates (?:unique|foreign key|check|not-null) constraint|syntax error at or near|invalid input syntax for|out of range for type|relation "[^"]*" does not exist|column "[^"]*" does not exist|operator does not exist|Failed query|PostgresError|tsquery|tsvector|pglite|wasm|RuntimeError/i,
  ],
  [
    'a JavaScript error',
    /\b(?:TypeError|ReferenceError|RangeError|AggregateError)\b|Cannot read propert(?:y|ies) of|is not a function|Maximum call stack|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ioredis|drizzle/,
  ],
];

function internalKeys(value: unknown, path: string, found: string[]): void {
  if (!value || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (INTERNAL_KEYS.has(key)) found.push(`${path}.${key}`);
    internalKeys(inner, `${path}.${key}`, found);
  }
}

/**
 * The problems of one `errors` array: every entry a GraphQL error with a
 * message and an allowed code, nothing internal in it, none of `secrets`.
 */
export function errorProblems(errors: unknown, secrets: readonly string[] = []): string[] {
  if (errors === undefined) return [];
  if (!Array.isArray(errors) || errors.length === 0) return [`errors is not a non-empty array: ${preview(errors)}`];
  const problems: string[] = [];
  errors.forEach((error: unknown, i) => {
    const where = `errors[${i}]`;
    if (!error || typeof error !== 'object' || typeof (error as { message?: unknown }).message !== 'string') {
      problems.push(`${where} is not a GraphQL error: ${preview(error)}`);
      return;
    }
    const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
    if (typeof code !== 'string' || !ALLOWED_CODES.has(code))
      problems.push(`${where} has code ${String(code)}: ${preview(error)}`);
    const keys: string[] = [];
    internalKeys(error, where, keys);
    if (keys.length > 0) problems.push(`${where} carries ${keys.join(', ')}`);
    const text = JSON.stringify(error);
    for (const [what, pattern] of INTERNAL_TEXT)
      if (pattern.test(text)) problems.push(`${where} shows ${what}: ${preview(error)}`);
    for (const secret of secrets)
      if (text.includes(secret)) problems.push(`${where} echoes what the request carried (${secret.slice(0, 16)}…)`);
  });
  return problems;
}

/**
 * Statuses answered with no GraphQL body: by yoga, a method, Accept or
 * Content-Type it does not serve, and 413; by Node's HTTP parser, a request
 * line and headers over its 16 KiB (431).
 */
const BODYLESS_REFUSALS = new Set([405, 406, 413, 415, 431]);

export interface HttpAnswer {
  status: number;
  contentType: string | null;
  text: string;
}

/**
 * The problems of an HTTP answer: a 5xx; a refusal that is no GraphQL error
 * (except the bodyless statuses above); a JSON body that does not parse;
 * and everything errorProblems finds. Data is the client's own business:
 * only errors are searched for internals and for `secrets`.
 */
export function httpProblems(answer: HttpAnswer, secrets: readonly string[] = []): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`HTTP ${answer.status}`);
  const json = /json/i.test(answer.contentType ?? '');
  if (!json) {
    if (answer.status >= 400 && !BODYLESS_REFUSALS.has(answer.status))
      problems.push(`HTTP ${answer.status} with ${answer.contentType ?? 'no content type'}: ${preview(answer.text)}`);
    if (answer.text && answer.status >= 400)
      for (const s of secrets) if (answer.text.includes(s)) problems.push('the body echoes the request');
    return problems;
  }
  let body: { data?: unknown; errors?: unknown };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return [...problems, `a JSON answer that does not parse: ${preview(answer.text)}`];
  }
  if (answer.status >= 400 && body.errors === undefined)
    problems.push(`HTTP ${answer.status} without errors: ${preview(answer.text)}`);
  return [...problems, ...errorProblems(body.errors, secrets)];
}

/** Close codes a server may use: graphql-transport-ws's, the contract's, and the going-away of a stopping server. */
export const ALLOWED_CLOSE_CODES = new Set([1000, 1001, 1009, 1013, 4400, 4401, 4403, 4408, 4409, 4429, 4499]);
/** RFC 6455's code for a text frame that is not UTF-8: `ws` answers it itself, before the protocol sees a message. */
export const INVALID_FRAME_PAYLOAD = 1007;

/** The problems of what a socket received: each message a protocol message, each error allowed. */
export function wsMessageProblems(raw: string, secrets: readonly string[] = []): string[] {
  let message: { type?: unknown; id?: unknown; payload?: any };
  try {
    message = JSON.parse(raw) as typeof message;
  } catch {
    return [`a frame that is not JSON: ${preview(raw)}`];
  }
  switch (message.type) {
    case 'connection_ack':
    case 'ping':
    case 'pong':
    case 'complete':
      return [];
    case 'error':
      return errorProblems(message.payload, secrets);
    case 'next':
      return errorProblems(message.payload?.errors, secrets);
    default:
      return [`a message of type ${String(message.type)}: ${preview(raw)}`];
  }
}

/** Fails with every problem listed, then what was sent. */
export function expectNoProblems(problems: readonly string[], what: string): void {
  if (problems.length > 0) expect.fail(`${problems.join('\n')}\n--- for: ${what}`);
}

export const preview = (value: unknown, max = 300): string => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
};

/**
 * After a batch: the server is up, healthy, and answers a signed-in user's
 * plain query. A crash, a hang or a database left broken fails here.
 */
export async function expectServing(app: App, token: string, userId: string): Promise<void> {
  const health = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  expect(health.status, 'GET /healthz after the batch').toBe(200);
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { id } }' }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(await response.json(), 'a plain query after the batch').toEqual({ data: { me: { id: userId } } });
}

/** After a batch of frames: a fresh socket is acknowledged and answers a plain query. */
export async function expectSocketServing(app: App, token: string, userId: string): Promise<void> {
  const socket = await RawSocket.open(app);
  try {
    expect(await socket.init({ authorization: `Bearer ${token}` }), 'a fresh socket is acknowledged after the batch').toBe(true);
    await socket.send(JSON.stringify({ id: 'plain', type: 'subscribe', payload: { query: '{ me { id } }' } }));
    await socket.until(() => socket.messages().some((m) => m.id === 'plain' && m.type === 'complete'), 'a plain query');
    const next = socket.messages().find((m) => m.id === 'plain' && m.type === 'next');
    expect(next?.payload, 'a plain query over a fresh socket after the batch').toEqual({ data: { me: { id: userId } } });
  } finally {
    await socket.close();
  }
}

import fc from 'fast-check';
import type { GraphQLSchema } from 'graphql';
import { beforeAll, expect, it } from 'vitest';
import { seeder } from '../support/seed.js';
import { buildSchema } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';
import {
  authorizations,
  operation,
  operations,
  textWithLoneSurrogate,
  type GeneratedOperation,
  type World,
} from './arbitraries.js';
import {
  ALLOWED_CLOSE_CODES,
  errorProblems,
  expectNoProblems,
  expectServing,
  httpProblems,
  preview,
  REFUSAL_CODES,
  wsMessageProblems,
  type HttpAnswer,
} from './contract.js';
import { PROPERTY_TIMEOUT_MS, propertyParameters, propertyWorld, type PropertyWorld } from './setup.js';
import { RawSocket } from './socket.js';

/** The contract's operation limits, with a margin: past these, however a limit counts (root field or not, fragments or not), it is past. */
const CLEARLY_TOO_DEEP = 14; // the limit is 12
const CLEARLY_TOO_MANY_ALIASES = 32; // the limit is 30
const CLEARLY_TOO_MANY_TOKENS = 2100; // the limit is 2000
const overLimits = (op: GeneratedOperation) =>
  op.depth >= CLEARLY_TOO_DEEP || op.aliases >= CLEARLY_TOO_MANY_ALIASES || (op.tokens ?? 0) >= CLEARLY_TOO_MANY_TOKENS;

interface HttpCall {
  op: GeneratedOperation;
  method: 'POST' | 'GET';
  authorization: string | null;
}

async function sendOverHttp(p: PropertyWorld, { op, method, authorization }: HttpCall): Promise<HttpAnswer & { json: any }> {
  const headers: Record<string, string> = { accept: 'application/graphql-response+json, application/json' };
  if (authorization !== null) headers.authorization = authorization;
  let url = `${p.app.url}/graphql`;
  let body: string | undefined;
  if (method === 'GET') {
    const params = new URLSearchParams({ query: op.query, variables: JSON.stringify(op.variables) });
    if (op.operationName !== undefined) params.set('operationName', op.operationName);
    url += `?${params.toString()}`;
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ query: op.query, variables: op.variables, operationName: op.operationName });
  }
  const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // httpProblems says whether that was allowed
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text, json };
}

const describeCall = (call: HttpCall) =>
  `${call.method} ${call.op.kind} (depth ${call.op.depth}, ${call.op.aliases} aliases, ${call.op.tokens} tokens): ${preview(call.op.query, 400)} variables ${preview(call.op.variables, 300)}`;

/** An operation with each part of an HTTP request it travels in. */
function httpCalls(schema: GraphQLSchema, world: World): fc.Arbitrary<HttpCall> {
  return fc.record({
    op: operations(schema, world),
    method: fc.constantFrom<HttpCall['method']>('POST', 'POST', 'GET'),
    authorization: mostlySignedIn(world),
  });
}

/**
 * One socket: connection_init with `authorization`, then every operation as
 * a subscribe message. Resolves with what came back, once every query and
 * mutation has its answer and a plain query after them has its own (live
 * subscriptions answer nothing until something happens: those are
 * completed unanswered).
 */
async function sendOverWebSocket(p: PropertyWorld, ops: GeneratedOperation[], authorization: string | null) {
  const socket = await RawSocket.open(p.app);
  try {
    const acknowledged = await socket.init(authorization === null ? {} : { authorization });
    if (!acknowledged) return { socket, acknowledged };
    for (const [i, op] of ops.entries()) {
      await socket.send(
        JSON.stringify({
          id: `op${i}`,
          type: 'subscribe',
          payload: { query: op.query, variables: op.variables, operationName: op.operationName },
        }),
      );
    }
    await socket.send(JSON.stringify({ id: 'plain', type: 'subscribe', payload: { query: '{ me { id } }' } }));
    const ended = (id: string) => socket.messages().some((m) => m.id === id && (m.type === 'complete' || m.type === 'error'));
    const pending = ['plain', ...ops.flatMap((op, i) => (op.kind === 'subscription' ? [] : [`op${i}`]))];
    await socket.until(() => pending.every(ended), `answers to ${pending.join(', ')}`);
    for (const [i, op] of ops.entries())
      if (op.kind === 'subscription') await socket.send(JSON.stringify({ id: `op${i}`, type: 'complete' }));
    return { socket, acknowledged };
  } finally {
    await socket.close();
  }
}

/**
 * Operations that once broke the server, tried first on every run: a root
 * subscription field under @include with a variable (validation threw: a
 * 4500 close, an error without a code), a misspelt field in a login's input
 * (no code, the password echoed), an operationName that names nothing (no
 * code over WebSocket).
 */
const FORMER_FAILURES: GeneratedOperation[] = [
  operation('subscription', 'subscription($v0: Boolean!) { myEvents @include(if: $v0) { __typename } }', { v0: true }),
  operation('mutation', 'mutation($i: CredentialsInput!) { login(input: $i) { token } }', {
    i: { username: 'somebody', password: 'pw-7f3a9c-never-echoed', pasword: 'x' },
  }),
  operation('query', 'query A { me { id } } query B { me { id } }', {}, 'Nope'),
];

const bearer = (p: PropertyWorld) => `Bearer ${p.user.token}`;

/** Mostly the signed-in user's token (what reaches the resolvers), else any of authorizations(). */
const mostlySignedIn = (world: World) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(`Bearer ${world.tokens.valid}`) },
    { weight: 1, arbitrary: authorizations(world) },
  );

forEachBackend('Random operations from the served schema', (s) => {
  let p: PropertyWorld;
  let schema: GraphQLSchema;
  beforeAll(async () => {
    p = await propertyWorld(s);
    schema = buildSchema();
  });

  it(
    'answers them over HTTP (POST and GET, any token) with no 5xx, no internal detail and only contract codes',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(httpCalls(schema, p.world), { minLength: 1, maxLength: 5 }), async (calls) => {
          for (const call of calls) {
            const answer = await sendOverHttp(p, call);
            expectNoProblems(httpProblems(answer, [p.world.secret]), describeCall(call));
          }
          await expectServing(p.app, p.user.token, p.user.id);
          await p.restore();
        }),
        propertyParameters(50, 8_000, [
          [FORMER_FAILURES.map((op): HttpCall => ({ op, method: 'GET', authorization: bearer(p) }))],
        ]),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers them over WebSocket with only contract codes and no internal detail, closing only as the protocol says',
    async () => {
      const batches = fc.record({
        ops: fc.array(operations(schema, p.world), { minLength: 1, maxLength: 5 }),
        authorization: mostlySignedIn(p.world),
      });
      await fc.assert(
        fc.asyncProperty(batches, async ({ ops, authorization }) => {
          const what = `${authorization?.slice(0, 40) ?? 'no token'}; ${ops.map((op) => preview(op.query, 200)).join(' | ')}`;
          const { socket, acknowledged } = await sendOverWebSocket(p, ops, authorization);
          expectNoProblems(
            socket.received.flatMap((raw) => wsMessageProblems(raw, [p.world.secret])),
            what,
          );
          if (!acknowledged) {
            // A socket without a valid token is closed with 4403, and nothing else happens on it.
            expect(socket.closedWith?.code, what).toBe(4403);
          } else if (socket.closedWith && socket.closedWith.code !== 1000) {
            expect(ALLOWED_CLOSE_CODES.has(socket.closedWith.code), `closed with ${socket.closedWith.code}: ${what}`).toBe(true);
          }
          await expectServing(p.app, p.user.token, p.user.id);
          await p.restore();
        }),
        propertyParameters(40, 6_000, [[{ ops: FORMER_FAILURES, authorization: bearer(p) }]]),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses operations past the depth, alias or token limits before any resolver runs, on both transports',
    async () => {
      const tooBig = fc.record({
        op: operations(schema, p.world).filter(overLimits),
        method: fc.constantFrom<HttpCall['method']>('POST', 'GET'),
      });
      await fc.assert(
        fc.asyncProperty(tooBig, async ({ op, method }) => {
          const call = { op, method, authorization: `Bearer ${p.world.tokens.valid}` };
          const answer = await sendOverHttp(p, call);
          const refused = (errors: any, data: unknown) =>
            Array.isArray(errors) &&
            errors.length > 0 &&
            errors.every((e: any) => REFUSAL_CODES.includes(e?.extensions?.code)) &&
            data == null;
          // A document too long for a URL (431) or a body (413) is refused before GraphQL sees it.
          const tooLong = answer.status === 413 || answer.status === 431;
          expect(
            tooLong || refused(answer.json?.errors, answer.json?.data),
            `${describeCall(call)}\nanswered ${answer.status} ${preview(answer.text)}`,
          ).toBe(true);

          const { socket } = await sendOverWebSocket(p, [{ ...op, kind: 'query' }], `Bearer ${p.world.tokens.valid}`);
          const mine = socket.messages().filter((m) => m.id === 'op0');
          const first = mine[0];
          const closedForSize = socket.closedWith?.code === 1009;
          const errors = first?.type === 'error' ? first.payload : first?.payload?.errors;
          expect(
            closedForSize || refused(errors, first?.payload?.data),
            `WebSocket: ${describeCall(call)}\nanswered ${preview(mine)}`,
          ).toBe(true);
          await expectServing(p.app, p.user.token, p.user.id);
        }),
        propertyParameters(30, 5_000),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses stored text that is not well-formed UTF-16 (a lone surrogate) with BAD_USER_INPUT',
    async () => {
      // A room and message of its own: the random mutations before may have left or deleted the world's.
      const seed = seeder(p.app);
      const room = await seed.room(p.user);
      const roomId = room.id;
      const messageId = (await seed.send(p.user, room, 'to be edited')).id;
      const cases = fc.oneof(
        textWithLoneSurrogate.map((body) => ({
          query: 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }',
          variables: { i: { roomId, body: `${body}x` } },
        })),
        textWithLoneSurrogate.map((clientId) => ({
          query: 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }',
          variables: { i: { roomId, body: 'hello', clientId } },
        })),
        textWithLoneSurrogate.map((body) => ({
          query: 'mutation($i: EditMessageInput!) { editMessage(input: $i) { id } }',
          variables: { i: { id: messageId, body: `${body}x` } },
        })),
        textWithLoneSurrogate.map((name) => ({
          query: 'mutation($i: CreateRoomInput!) { createRoom(input: $i) { id } }',
          variables: { i: { name: `${name}x` } },
        })),
      );
      await fc.assert(
        fc.asyncProperty(cases, async ({ query, variables }) => {
          const response = await fetch(`${p.app.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${p.user.token}` },
            body: JSON.stringify({ query, variables }),
            signal: AbortSignal.timeout(15_000),
          });
          const result = (await response.json()) as { data?: unknown; errors?: any[] };
          const what = `${query} ${JSON.stringify(variables)} answered ${preview(result)}`;
          expectNoProblems(errorProblems(result.errors), what);
          const codes = (result.errors ?? []).map((e) => e.extensions?.code);
          expect(codes.length > 0 && codes.every((code) => code === 'BAD_USER_INPUT' || code === 'RATE_LIMITED'), what).toBe(
            true,
          );
          expect(result.data ?? null, what).toBeNull();
        }),
        propertyParameters(30, 3_000),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

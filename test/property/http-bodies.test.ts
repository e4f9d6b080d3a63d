import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { forEachBackend } from '../support/suite.js';
import { bodiesAroundTheLimit, getParameters, httpBodies, KIB, PLAIN_QUERIES, type GeneratedBody } from './arbitraries.js';
import { expectNoProblems, expectServing, httpProblems, preview, type HttpAnswer } from './contract.js';
import { PROPERTY_TIMEOUT_MS, propertyParameters, propertyWorld, type PropertyWorld } from './setup.js';

/** The contract's limit on a request body. */
const MAX_BODY_BYTES = 256 * KIB;

async function post(
  p: PropertyWorld,
  made: Pick<GeneratedBody, 'body' | 'contentType' | 'accept' | 'authorization'>,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (made.contentType !== null) headers['content-type'] = made.contentType;
  if (made.accept !== null) headers.accept = made.accept;
  if (made.authorization !== null) headers.authorization = made.authorization;
  const response = await fetch(`${p.app.url}/graphql`, {
    method: 'POST',
    headers,
    body: made.body as Uint8Array<ArrayBuffer>,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

const describeBody = (made: GeneratedBody) =>
  `${made.shape}, ${made.body.byteLength} bytes, content-type ${made.contentType}, accept ${made.accept}, authorization ${preview(made.authorization, 40)}: ${preview(Buffer.from(made.body).toString('utf8'), 300)}`;

forEachBackend('Random HTTP bodies and parameters', (s) => {
  let p: PropertyWorld;
  beforeAll(async () => {
    p = await propertyWorld(s);
  });

  it(
    'answers random bodies with no 5xx, no internal detail, no echo of the body and only contract codes',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(httpBodies(p.world), { minLength: 1, maxLength: 6 }), async (bodies) => {
          for (const made of bodies) {
            const answer = await post(p, made);
            const what = `${describeBody(made)}\nanswered ${answer.status}: ${preview(answer.text)}`;
            expectNoProblems(httpProblems(answer, made.canaries), what);
            for (const canary of made.canaries)
              expect(answer.text.includes(canary), `the answer echoes the body: ${what}`).toBe(false);
          }
          await expectServing(p.app, p.user.token, p.user.id);
        }),
        propertyParameters(80, 8_000),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers a body over 256 KiB with 413, and one within it as the body deserves',
    async () => {
      const sized = bodiesAroundTheLimit(p.world);
      await fc.assert(
        fc.asyncProperty(sized, async (made) => {
          const answer = await post(p, made);
          const what = `${describeBody(made)}\nanswered ${answer.status}: ${preview(answer.text)}`;
          expectNoProblems(httpProblems(answer, made.canaries), what);
          // A request that accepts no type the server can answer in may be refused for that first (406).
          const answerable = made.accept === null || (/json|\*\/\*/.test(made.accept) && !/q=0\b/.test(made.accept));
          if (made.body.byteLength > MAX_BODY_BYTES) expect(answerable ? [413] : [406, 413], what).toContain(answer.status);
          else expect(answer.status, what).not.toBe(413);
          await expectServing(p.app, p.user.token, p.user.id);
        }),
        propertyParameters(30, 5_000),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers a JSON body with a UTF-8 BOM in front as it answers the same body without one',
    async () => {
      const queries = PLAIN_QUERIES.filter((query) => !query.startsWith('mutation'));
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...queries),
          fc.constantFrom('application/json', 'application/json; charset=utf-8'),
          async (query, contentType) => {
            const json = JSON.stringify({ query });
            const request = {
              contentType,
              accept: 'application/graphql-response+json, application/json',
              authorization: `Bearer ${p.user.token}`,
            };
            const plain = await post(p, { ...request, body: new Uint8Array(Buffer.from(json)) });
            const withBom = await post(p, { ...request, body: new Uint8Array(Buffer.from(`\uFEFF${json}`)) });
            expect({ status: withBom.status, body: JSON.parse(withBom.text) }, `BOM + ${json}`).toEqual({
              status: plain.status,
              body: JSON.parse(plain.text),
            });
          },
        ),
        propertyParameters(10, 3_000),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers random GET parameters with no 5xx, no internal detail and only contract codes',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(getParameters(p.world), { minLength: 1, maxLength: 6 }), async (requests) => {
          for (const { params, authorization, accept } of requests) {
            const headers: Record<string, string> = {};
            if (authorization !== null) headers.authorization = authorization;
            // Without an Accept that names JSON, a browser's GET gets GraphiQL: not what this is about.
            headers.accept = accept === null || !/json|\*\/\*/.test(accept) ? 'application/json' : accept;
            const search = new URLSearchParams(params).toString();
            const response = await fetch(`${p.app.url}/graphql?${search}`, { headers, signal: AbortSignal.timeout(15_000) });
            const answer = {
              status: response.status,
              contentType: response.headers.get('content-type'),
              text: await response.text(),
            };
            expectNoProblems(
              httpProblems(answer),
              `GET /graphql?${preview(search, 400)} (accept ${headers.accept})\nanswered ${answer.status}: ${preview(answer.text)}`,
            );
          }
          await expectServing(p.app, p.user.token, p.user.id);
        }),
        // Once a 500: variables that are not JSON.
        propertyParameters(80, 5_000, [
          [
            [
              {
                params: [
                  ['query', '{ __typename }'],
                  ['variables', '{bad'],
                ],
                authorization: null,
                accept: null,
              },
            ],
          ],
        ]),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

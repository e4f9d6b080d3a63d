import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/logger.js';
import { multipartResponse } from '../../src/transport/multipart.js';

const quiet: Logger = createLogger('silent');
const fetchAPI = { ReadableStream, TextEncoder, Response };
const respond = (result: ExecutionResult | AsyncIterable<ExecutionResult>) =>
  multipartResponse(result, { heartbeatMs: 60_000, logger: quiet, fetchAPI });

/** Two events, then the source fails as an overflowing subscriber queue does (a plain Error, no code). */
async function* overflowing(): AsyncGenerator<ExecutionResult> {
  yield { data: { tick: 1 } };
  yield { data: null, errors: [new GraphQLError('Not allowed', { extensions: { code: 'FORBIDDEN', http: { status: 403 } } })] };
  throw new Error('The subscriber fell too far behind (internal detail)');
}

/** What Apollo Client 4 makes of a response, through HttpLink with a fetch that returns it. */
function throughApollo(response: Response): Promise<{ events: unknown[]; error: unknown }> {
  const client = new ApolloClient({
    link: new HttpLink({ uri: 'http://localhost/graphql', fetch: async () => response }),
    cache: new InMemoryCache(),
  });
  return new Promise((resolve) => {
    const events: unknown[] = [];
    client.subscribe({ query: gql('subscription { tick }'), fetchPolicy: 'no-cache' }).subscribe({
      next: (event) => events.push(event),
      error: (error: unknown) => resolve({ events, error }),
      complete: () => resolve({ events, error: null }),
    });
  });
}

describe('the multipart subscription framing', () => {
  it('frames events as payload parts and a failed source as a transport error that ends the stream', async () => {
    const text = await respond(overflowing()).text();
    expect(text).toBe(
      [
        '--graphql',
        '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{}\r\n--graphql',
        '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{"payload":{"data":{"tick":1}}}\r\n--graphql',
        '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n' +
          '{"payload":{"data":null,"errors":[{"message":"Not allowed","extensions":{"code":"FORBIDDEN"}}]}}\r\n--graphql',
        '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n' +
          '{"payload":null,"errors":[{"message":"The subscription was interrupted; subscribe again with `after` set to the last cursor received","extensions":{"code":"SERVICE_UNAVAILABLE"}}]}\r\n--graphql',
        '--\r\n',
      ].join(''),
    );
    expect(text).not.toContain('internal detail');
  });

  it('is what Apollo Client parses: the data, the GraphQL error in an event, then the transport error', async () => {
    const { events, error } = await throughApollo(respond(overflowing()));
    expect(events[0]).toMatchObject({ data: { tick: 1 } });
    expect((events[1] as { error?: { errors?: unknown[] } }).error?.errors).toMatchObject([
      { extensions: { code: 'FORBIDDEN' } },
    ]);
    const last = error ?? (events.at(-1) as { error?: unknown }).error;
    expect((last as { errors?: unknown[] }).errors).toMatchObject([{ extensions: { code: 'SERVICE_UNAVAILABLE' } }]);
  });

  it('answers a subscription refused before it started with one payload part and the closing delimiter', async () => {
    const refused = { errors: [new GraphQLError('Sign in first', { extensions: { code: 'UNAUTHENTICATED' } })] };
    const text = await respond(refused).text();
    expect(text).toBe(
      '--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n' +
        '{"payload":{"errors":[{"message":"Sign in first","extensions":{"code":"UNAUTHENTICATED"}}]}}\r\n--graphql--\r\n',
    );
  });

  it('releases the subscription when the client disconnects', async () => {
    let released = false;
    const source: AsyncIterableIterator<ExecutionResult> = {
      next: () => new Promise(() => {}),
      return: async () => {
        released = true;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const client = new AbortController();
    const response = multipartResponse(source, { heartbeatMs: 60_000, logger: quiet, fetchAPI, signal: client.signal });
    const reader = response.body!.getReader();
    await reader.read(); // the opening delimiter: the stream started
    expect(released).toBe(false);
    client.abort();
    expect(released).toBe(true);
  });
});

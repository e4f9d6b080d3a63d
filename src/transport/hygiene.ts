import type { ExecutionResult } from 'graphql';
import { createGraphQLError, mapAsyncIterator, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { hasPrivateExtensions, publicError } from '../errors.js';

/**
 * A JSON body read in place of yoga's own parser, which answers an
 * unparsable body with the JSON engine's message, and that quotes the whole
 * body (a login's password) in `extensions.originalError`; it also refuses
 * a body that starts with a UTF-8 byte order mark, which is still JSON
 * (RFC 8259 §8.1 lets a parser ignore it, and WHATWG's decoder does). Here a
 * BOM is skipped and a body that does not parse gets a 400 that says so and
 * nothing more. Runs before the body limit (yoga.ts), which wraps it.
 */
export function useJsonBody(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST' || !isJson(request.headers.get('content-type'))) return;
      setRequestParser(async (req) => {
        const text = await req.text(); // a body over the limit rejects here, with its 413
        let body: unknown;
        try {
          body = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
        } catch {
          throw badRequest('POST body sent invalid JSON.');
        }
        // An array is a batch, which yoga refuses after this ("Batching is not supported").
        if (body === null || typeof body !== 'object') throw badRequest('POST body is expected to be an object.');
        return body as GraphQLParams;
      });
    },
  };
}

/** As yoga matches a JSON request: application/json or application/graphql+json, any parameters. */
function isJson(contentType: string | null): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' || type === 'application/graphql+json';
}

function badRequest(message: string) {
  return createGraphQLError(message, { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
}

/**
 * The last look at every HTTP result, a single one or each event of a
 * stream (SSE): no private extension leaves (errors.ts's publicError),
 * whoever put it there. `http` stays for yoga, which reads it for the status
 * and drops it as it serialises.
 */
export function usePublicErrors(): Plugin {
  return {
    onResultProcess(payload) {
      const { result } = payload;
      if (Symbol.asyncIterator in result) {
        payload.setResult(mapAsyncIterator(result as AsyncIterable<ExecutionResult>, cleaned));
        return;
      }
      for (const single of Array.isArray(result) ? result : [result]) cleaned(single as ExecutionResult);
    },
  };
}

function cleaned<T extends ExecutionResult>(result: T): T {
  for (const error of result.errors ?? []) {
    if (!hasPrivateExtensions(error)) continue;
    // In place: a GraphQLError still, whose `http` extension yoga reads for the status.
    (error as { extensions: unknown }).extensions = publicError(error, { keepHttp: true }).extensions ?? {};
  }
  return result;
}

/**
 * A client that disconnects while its body is being read (a dropped
 * connection, a cancelled upload) makes the read fail with ECONNRESET,
 * which the masking rule took for an unreachable database: two empty error
 * lines and a SERVICE_UNAVAILABLE counted for a request nobody is waiting
 * for. It is the client's going away, so it becomes the AbortError yoga
 * expects for that: logged once at debug ("Request aborted"), answered with
 * nothing, counted as no error. Wraps whichever parser the plugins before
 * it chose.
 */
export function useAbortedBodiesQuiet(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!request.signal.aborted && !isConnectionReset(error)) throw error;
          throw new DOMException('The client closed the connection before its request body arrived', 'AbortError');
        }
      });
    },
  };
}

function isConnectionReset(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === 'ECONNRESET') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

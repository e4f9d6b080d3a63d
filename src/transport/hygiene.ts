import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';

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
 * The last look at every HTTP result: no `originalError` extension leaves,
 * whoever put it there. yoga's serializer drops `unexpected` and `http`
 * itself, after reading them for the status; errors over WebSocket are
 * formed by errors.ts's publicError.
 */
export function useNoOriginalErrors(): Plugin {
  return {
    onResultProcess({ result }) {
      if (Symbol.asyncIterator in result) return;
      for (const one of Array.isArray(result) ? result : [result]) {
        for (const error of one.errors ?? []) {
          if (!error.extensions || !('originalError' in error.extensions)) continue;
          const { originalError: _dropped, ...kept } = error.extensions;
          (error as { extensions: unknown }).extensions = kept;
        }
      }
    },
  };
}

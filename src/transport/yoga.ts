import type { GraphQLSchema } from 'graphql';
import { createGraphQLError, createYoga, type Plugin } from 'graphql-yoga';
import { createContextFactory, type Context, type ContextAuth, type Services } from '../context.js';
import { createErrorMasker } from '../errors.js';
import type { Limits } from '../limits/index.js';
import { limitMutations } from '../limits/mutation-limits.js';
import type { SocketCaps } from '../limits/socket-caps.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { useMetrics } from '../observability/use-metrics.js';
import { requestScope, useOperationNamed } from './access-log.js';
import { useDatabaseBudget } from './database-budget.js';
import { useAbortedBodiesQuiet, useJsonBody, usePublicErrors } from './hygiene.js';
import { documentRules, type DocumentRules } from './limits.js';
import type { OriginPolicy } from './origins.js';
import { useLiveEventExecution } from './render.js';
import { useMalformedParamsRefused } from './request-params.js';
import { useHttpSubscriptions } from './streams.js';
import { useTrustedDocuments, type TrustedDocuments } from './trusted-documents.js';
import { useValidationErrorsReported } from './validation-errors.js';

export const GRAPHQL_PATH = '/graphql';

export interface GraphQLServerOptions extends DocumentRules {
  /** The served schema (schema.ts's buildSchema), built at start; its Mutation fields get their limits here. */
  schema: GraphQLSchema;
  /** The documents requests may name by documentId or APQ hash, and whether only they run. */
  trusted: TrustedDocuments;
  origins: OriginPolicy;
  /** Subscriptions over Apollo's multipart HTTP protocol (multipart.ts). */
  multipart: Plugin;
  /** Open SSE and multipart subscriptions per user. */
  streams: SocketCaps;
  metrics: Metrics;
  /** The per-user limits every Mutation field counts against. */
  mutationLimits: Limits['mutations'];
  /** One operation's time for all its database calls (DATABASE_QUERY_TIMEOUT_MS). */
  databaseBudgetMs: number;
}

/**
 * The GraphQL server both transports share: one schema, one context factory,
 * one masking rule, the same document limits. Batching stays off (yoga's
 * default: a JSON array body is refused), and so do mutations over GET.
 */
export function createGraphQLServer(services: Services, auth: ContextAuth, logger: Logger, options: GraphQLServerOptions) {
  const { origins, requestLimits, schema } = options;
  limitMutations(schema, options.mutationLimits);
  return createYoga<object, Context>({
    schema,
    context: createContextFactory(services, auth, logger),
    graphqlEndpoint: GRAPHQL_PATH,
    // GraphiQL is served before yoga (graphiql.ts): its files compressed and cached, its socket signed in.
    graphiql: false,
    landingPage: false,
    logging: yogaLogger(logger),
    maskedErrors: { isDev: false, maskError: createErrorMasker(logger) },
    cors: (request) => origins.cors(request),
    maxRequestBodySize: false,
    // Documents are still parsed once; their validation is cached by documentRules' own cache, which the
    // cost limit must come after (limits.ts).
    parserAndValidationCache: { validationCache: false },
    plugins: [
      origins.streams(),
      useJsonBody(),
      useRequestBodyLimit(requestLimits.bodyBytes),
      useMalformedParamsRefused(),
      // Before yoga checks the parameters (a request may have a documentId and no query).
      useTrustedDocuments(options.trusted),
      useAbortedBodiesQuiet(),
      usePublicErrors(),
      ...documentRules(options),
      useValidationErrorsReported(),
      options.multipart,
      // After multipart: it has the last word on a subscription's result processor.
      useHttpSubscriptions({ origins, streams: options.streams, metrics: options.metrics, logger }),
      useMetrics(options.metrics),
      useOperationNamed(),
      useLiveEventExecution(),
      useDatabaseBudget(options.databaseBudgetMs),
    ],
  });
}

export type GraphQLServer = ReturnType<typeof createGraphQLServer>;

/**
 * yoga's own log lines, at their level, with the id of the request they are
 * about (requestScope, entered at debug); objects it passes along are not printed.
 */
function yogaLogger(logger: Logger) {
  const text = (args: unknown[]) => args.filter((a) => typeof a === 'string').join(' ');
  const fields = () => {
    const req = requestScope.getStore();
    return req === undefined ? undefined : { req };
  };
  return {
    debug: (...args: unknown[]) => logger.debug(text(args), fields()),
    info: (...args: unknown[]) => logger.info(text(args), fields()),
    warn: (...args: unknown[]) => logger.warn(text(args), fields()),
    error: (...args: unknown[]) => logger.error(text(args), fields()),
  };
}

/**
 * yoga's maxRequestBodySize, with its answers (413 REQUEST_ENTITY_TOO_LARGE,
 * 400 BAD_REQUEST for a malformed Content-Length), minus a cost: yoga pipes
 * every body through a counting TransformStream, which was several percent of
 * the CPU of a small mutation. A request with a valid Content-Length needs no
 * counting, since Node's HTTP parser reads exactly that many bytes as the
 * body (and refuses Content-Length with Transfer-Encoding); only a body of
 * unknown length (chunked) is counted as it streams.
 */
function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength !== null) {
        if (!/^\d+$/.test(contentLength)) throw httpError(400, 'BAD_REQUEST', 'Content-Length header is invalid.');
        if (Number(contentLength) > limit) throw bodyTooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser((req) => {
        const body = req.body;
        if (!body) return requestParser(req);
        // As yoga does: a native stream body needs the native TransformStream (graphql-yoga #4583).
        const Transform = body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        let read = 0;
        const counted = body.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(bodyTooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        // A stream body needs duplex, which RequestInit's type lacks.
        const init = {
          method: req.method,
          headers: req.headers,
          signal: req.signal,
          body: counted,
          duplex: 'half',
        } as RequestInit;
        return requestParser(new fetchAPI.Request(req.url, init));
      });
    },
  };
}

const bodyTooLarge = () => httpError(413, 'REQUEST_ENTITY_TOO_LARGE', 'Request body too large');

function httpError(status: number, code: string, message: string) {
  return createGraphQLError(message, { extensions: { http: { status }, code } });
}

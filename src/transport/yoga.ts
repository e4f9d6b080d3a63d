import { createYoga } from 'graphql-yoga';
import { createContextFactory, type Context, type Services } from '../context.js';
import { createErrorMasker } from '../errors.js';
import type { Logger } from '../logger.js';
import { buildSchema } from '../schema.js';
import { renderChatGraphiQL } from './graphiql.js';

export const GRAPHQL_PATH = '/graphql';

/** The GraphQL server both transports share: one schema, one context factory, one masking rule. */
export function createGraphQLServer(services: Services, logger: Logger) {
  return createYoga<object, Context>({
    schema: buildSchema(),
    context: createContextFactory(services),
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: { title: 'Chat API', subscriptionsProtocol: 'WS' },
    // Served whole from this process (no CDN), and signed in over WebSocket too.
    renderGraphiQL: renderChatGraphiQL,
    landingPage: false,
    logging: yogaLogger(logger),
    maskedErrors: { isDev: false, maskError: createErrorMasker(logger) },
  });
}

export type GraphQLServer = ReturnType<typeof createGraphQLServer>;

/** yoga's own log lines, at their level; objects it passes along are not printed. */
function yogaLogger(logger: Logger) {
  const text = (args: unknown[]) => args.filter((a) => typeof a === 'string').join(' ');
  return {
    debug: (...args: unknown[]) => logger.debug(text(args)),
    info: (...args: unknown[]) => logger.info(text(args)),
    warn: (...args: unknown[]) => logger.warn(text(args)),
    error: (...args: unknown[]) => logger.error(text(args)),
  };
}

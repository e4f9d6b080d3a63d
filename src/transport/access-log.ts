import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';

/** The GraphQL operation a request carried, as its log line names it. */
interface Operation {
  /** Its name; null for an anonymous one (or a document that did not parse, without operationName). */
  name: string | null;
  /** query, mutation or subscription; null when the document did not parse. */
  type: string | null;
}

const operations = new WeakMap<IncomingMessage, Operation>();

/**
 * The id of the HTTP request whose work is running, for the lines logged
 * where no request is at hand (yoga's own: "Parsing request…"). Entered only
 * when debug lines are written: at other levels nobody reads it, and an
 * AsyncLocalStorage in use costs every promise a little on Node 20.
 */
export const requestScope = new AsyncLocalStorage<string>();

/**
 * Notes the operation of each GraphQL request over HTTP for its log line:
 * the operation that runs (by operationName, or the document's only one),
 * once the document is parsed, so a refused one is named too.
 */
export function useOperationNamed(): Plugin {
  return {
    onParse({ context }) {
      const { req, params } = context as { req?: IncomingMessage; params?: { operationName?: string | null } };
      if (!req) return;
      const given = params?.operationName ?? null;
      return ({ result }) => {
        const document = result instanceof Error || result == null ? null : (result as DocumentNode);
        const operation = document ? getOperationAST(document, given) : null;
        operations.set(req, { name: operation?.name?.value ?? given, type: operation?.operation ?? null });
      };
    },
  };
}

/**
 * One line when the response has ended (or the client went away): method,
 * path without its query string (a GET's query and variables stay out),
 * the GraphQL operation, status, duration in ms and the request id.
 * Never a header, a variable or a body.
 */
export function logRequest(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  logger: Logger,
  level: 'info' | 'debug',
): void {
  if (!logger.enabled(level)) return;
  const started = performance.now();
  res.once('close', () => {
    const operation = operations.get(req);
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    logger[level]('request', {
      method: req.method,
      path: (query < 0 ? url : url.slice(0, query)).slice(0, 200),
      operation: operation?.name ?? undefined,
      type: operation?.type ?? undefined,
      status: res.headersSent ? res.statusCode : null,
      ms: Math.round((performance.now() - started) * 10) / 10,
      req: requestId,
      ...(res.writableFinished ? {} : { aborted: true }),
    });
  });
}

/** Runs `work` with the request's id in requestScope when debug lines are written; otherwise just runs it. */
export function inRequestScope(requestId: string, logger: Logger, work: () => void): void {
  if (logger.enabled('debug')) requestScope.run(requestId, work);
  else work();
}

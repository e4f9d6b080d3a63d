import {
  createSourceEventStream,
  getOperationAST,
  GraphQLError,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import type { Viewer } from '../auth/viewer.js';
import type { Services } from '../context.js';
import { publicError, withCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { LiveSource } from '../realtime/live-source.js';
import { createLiveRenderer, groupKey, serializeResult, type Masker } from './render.js';
import type { TrustedDocuments } from './trusted-documents.js';
import type { GraphQLServer } from './yoga.js';

/** What yoga's getEnveloped returns, with graphql-js's signatures (envelop types them as any). */
interface Enveloped {
  schema: GraphQLSchema;
  parse(source: string): DocumentNode;
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
  contextFactory(): Promise<Record<string, unknown>>;
  execute(args: ExecutionArgs): Promise<ExecutionResult>;
}

/** How one operation of a socket ends up: a single result, or a live source with its rendering. */
export type Prepared =
  | { kind: 'result'; payload: string }
  | { kind: 'errors'; payload: string }
  | {
      kind: 'live';
      source: LiveSource<unknown>;
      key: string;
      renderer: ReturnType<typeof createLiveRenderer>;
      /** The root field, as metrics name the subscription. */
      field: string;
    };

export interface OperationsOptions {
  graphql: GraphQLServer;
  services: Services;
  /** A payload may name its document by documentId or APQ hash (trusted-documents.ts). */
  trusted: TrustedDocuments;
  /** Counts the errors it answers with (the mask given counts those it masks). */
  mask: Masker;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Runs what a socket's `subscribe` message asks for, through the same
 * envelop as HTTP (parse and validation with yoga's caches and plugins, the
 * same context factory and masking). Queries and mutations give one result.
 * A subscription's `subscribe` resolver runs here, once (its checks, its
 * registration); its events are then rendered per group (render.ts), not per
 * subscriber, and nothing of this call's context is kept.
 */
export function createOperations({ graphql, services, trusted, mask, logger, metrics }: OperationsOptions) {
  const errorsPayload = (errors: readonly GraphQLError[]) => {
    metrics.errors(errors);
    return JSON.stringify(errors.map((error) => publicError(error)));
  };

  return async function prepare(
    subscribed: SubscribePayload,
    viewer: Viewer,
    clientIp: string,
    socketLogger: Logger = logger,
  ): Promise<Prepared> {
    // A trusted document named by id or hash runs as its text would (a refusal is the operation's error).
    let payload = subscribed;
    try {
      const text = trusted.resolve(subscribed);
      if (text !== null) {
        const { query: _, documentId: __, ...rest } = subscribed as SubscribePayload & { documentId?: unknown };
        payload = { ...rest, query: text };
      }
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return { kind: 'errors', payload: errorsPayload([error]) };
    }
    const extra = { viewer, clientIp, logger: socketLogger };
    const enveloped = graphql.getEnveloped({ params: payload, extra }) as Enveloped;
    let document: DocumentNode;
    try {
      document = enveloped.parse(payload.query);
    } catch (error) {
      return { kind: 'errors', payload: errorsPayload([withCode(error, 'GRAPHQL_PARSE_FAILED')]) };
    }
    let invalid: readonly GraphQLError[];
    try {
      invalid = enveloped.validate(enveloped.schema, document);
    } catch (error) {
      // A rule that throws instead of reporting refuses the document all the same.
      if (!(error instanceof GraphQLError)) throw error;
      invalid = [error];
    }
    if (invalid.length > 0)
      return { kind: 'errors', payload: errorsPayload(invalid.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'))) };
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) {
      // An operationName that names none, or several operations and no name: what yoga answers over HTTP.
      const unresolved = new GraphQLError('Could not determine what operation to execute.');
      return { kind: 'errors', payload: errorsPayload([withCode(unresolved, 'OPERATION_RESOLUTION_FAILURE')]) };
    }

    const contextValue = await enveloped.contextFactory();
    const args = {
      schema: enveloped.schema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
      contextValue,
    };
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      return { kind: 'result', payload: serializeResult(await enveloped.execute(args), mask) };
    }
    const source = await createSourceEventStream(args);
    if (!(source instanceof LiveSource)) {
      if (Symbol.asyncIterator in source) {
        logger.error('a subscription field returned a source the live engine cannot render', {
          operation: operation.name?.value,
        });
        // Nothing will read it: ended here, or whatever it registered stays.
        void Promise.resolve(source[Symbol.asyncIterator]().return?.()).catch(() => {});
        return { kind: 'result', payload: serializeResult({ errors: [new GraphQLError('Unexpected error.')] }, mask) };
      }
      // Its checks refused it (FORBIDDEN, NOT_FOUND, bad variables): one result, then complete.
      return { kind: 'result', payload: serializeResult(source, mask) };
    }
    const variableValues = payload.variables ?? undefined;
    let key: string;
    try {
      key = groupKey(payload.query, operation, document, variableValues);
    } catch (error) {
      source.end(); // the socket closes (session.ts) with no subscription to end it
      throw error;
    }
    return {
      kind: 'live',
      source: source as LiveSource<unknown>,
      key,
      renderer: createLiveRenderer({
        execute: (executionArgs) => enveloped.execute(executionArgs),
        schema: enveloped.schema,
        document,
        operation,
        variableValues,
        services,
        mask,
        logger,
      }),
      field: rootField(operation),
    };
  };
}

export type PrepareOperation = ReturnType<typeof createOperations>;

function rootField(operation: OperationDefinitionNode): string {
  const first = operation.selectionSet.selections[0];
  return first?.kind === Kind.FIELD ? first.name.value : 'unknown';
}

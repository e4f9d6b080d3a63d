import { getOperationAST, Kind, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { wantsMultipartSubscription } from '../transport/multipart.js';
import type { Metrics, SubscriptionTransport } from './metrics.js';

/**
 * yoga's share of the metrics (GraphQL over HTTP): the errors of every
 * response, after masking (parse and validation failures included), and the
 * subscriptions it streams (SSE, or multipart when the client asked for it).
 * The WebSocket path counts its own (transport/operations.ts, transport/ws/session.ts).
 */
export function useMetrics(metrics: Metrics): Plugin {
  return {
    onResultProcess({ result }) {
      if (Symbol.asyncIterator in result) return;
      for (const single of Array.isArray(result) ? result : [result]) metrics.errors((single as ExecutionResult).errors);
    },
    onSubscribe({ args }) {
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in result)) return;
          const operation = getOperationAST(args.document as DocumentNode, args.operationName as string | undefined);
          const first = operation?.selectionSet.selections[0];
          const field = first?.kind === Kind.FIELD ? first.name.value : 'unknown';
          const request = (args.contextValue as { request?: Request }).request;
          const transport: SubscriptionTransport = request && wantsMultipartSubscription(request) ? 'multipart' : 'sse';
          metrics.subscriptionStarted(field, transport);
          return { onEnd: () => metrics.subscriptionEnded(field, transport) };
        },
      };
    },
  };
}

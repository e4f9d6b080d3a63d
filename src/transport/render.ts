import {
  execute as executeQuery,
  GraphQLError,
  Kind,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Viewer } from '../auth/viewer.js';
import { createLoaders, type Context, type Services } from '../context.js';
import { publicError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Renderer } from '../realtime/group.js';

/** Marks the context of a live event's rendering, for useLiveEventExecution. */
const LIVE_EVENT = Symbol('live event');

/**
 * yoga's executor runs a subscription document as a subscription (its
 * source stream, then an execution per event); a live event here is one
 * execution of the document's selection with the event as root value, which
 * is graphql-js's execute. This plugin picks that executor for renderings
 * only, through envelop's setExecuteFn, so every other plugin's onExecute
 * and onExecuteDone still run around each rendering as around any HTTP
 * execution.
 */
export function useLiveEventExecution(): Plugin {
  return {
    onExecute({ args, setExecuteFn }) {
      if ((args.contextValue as { [LIVE_EVENT]?: true })[LIVE_EVENT]) setExecuteFn(executeQuery);
    },
  };
}

/** The masking rule (errors.ts), as yoga applies it to the other results. */
export type Masker = (error: unknown, message: string) => Error;

/** What a live operation's events are rendered with: its prepared document, and envelop's execute. */
export interface LiveRendering {
  /**
   * yoga's envelop execute for this operation (getEnveloped), so every
   * plugin's onExecute sees live events as it sees HTTP results.
   */
  execute: (args: ExecutionArgs) => Promise<ExecutionResult>;
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variableValues: Record<string, unknown> | undefined;
  services: Services;
  mask: Masker;
  logger: Logger;
}

/**
 * A live event rendered as the `payload` of a graphql-transport-ws `next`
 * message: the operation executed (through envelop, with the plugins of any
 * other execution) with the event as its root value, in a
 * fresh context (fresh loaders: nothing cached from an earlier event),
 * errors masked, serialised once. Whether the execution read the viewer is
 * recorded: a rendering that did not is the same for every viewer and is
 * shared; one that did (read state, membership-shaped fields) is redone per
 * viewer by the group (realtime/fanout.ts).
 *
 * The root field's own `resolve` receives the event; subscription resolvers
 * must not make it depend on the field's arguments, which only choose the
 * source (see groupKey).
 */
export function createLiveRenderer(op: LiveRendering): Renderer<unknown, string> {
  const { execute, schema, document, operation, variableValues, services, mask, logger } = op;
  return {
    async render(rootValue, viewer) {
      let viewerRead = false;
      const who: Viewer = { userId: viewer.userId };
      const readViewer = () => {
        viewerRead = true;
        return who;
      };
      const contextValue: Context & { [LIVE_EVENT]: true } = {
        [LIVE_EVENT]: true,
        services,
        get viewer() {
          return readViewer();
        },
        loaders: createLoaders(services, readViewer),
        clientIp: 'unknown', // an event's rendering runs no mutation: nothing counts per IP
        logger,
      };
      const result = await execute({
        schema,
        document,
        rootValue,
        contextValue,
        variableValues,
        operationName: operation.name?.value,
      });
      return { out: serializeResult(result, mask), viewerDependent: viewerRead };
    },
  };
}

/** A result as graphql-ws puts it in a payload: errors masked, in their public JSON form, omitted when there are none. */
export function serializeResult(result: ExecutionResult, mask: Masker): string {
  if (!result.errors?.length) return JSON.stringify(result);
  const errors = result.errors.map((error) => {
    const masked = mask(error, 'Unexpected error.');
    return masked instanceof GraphQLError ? publicError(masked) : { message: masked.message };
  });
  return JSON.stringify({ ...result, errors });
}

/**
 * What decides whether two subscriptions render alike: the document, the
 * operation, and the variables its selection reads below the root field.
 * Variables only the root field's arguments use (roomId, a resume cursor)
 * choose the source, not the rendering, so subscribers resuming from
 * different cursors still share renderings.
 */
export function groupKey(
  query: string,
  operation: OperationDefinitionNode,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
): string {
  const used = variablesBelowRoot(operation, document);
  const values = [...used].sort().map((name) => [name, variables?.[name] ?? null]);
  return `${operation.name?.value ?? ''}\u0000${JSON.stringify(values)}\u0000${query}`;
}

function variablesBelowRoot(operation: OperationDefinitionNode, document: DocumentNode): Set<string> {
  const names = new Set<string>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const seen = new Set<string>();
  const collect = (node: Parameters<typeof visit>[0]) =>
    visit(node, {
      Variable: (variable) => void names.add(variable.name.value),
      FragmentSpread: (spread) => {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !seen.has(fragment.name.value)) {
          seen.add(fragment.name.value);
          collect(fragment);
        }
      },
    });
  for (const selection of operation.selectionSet.selections) {
    // The root field's arguments are skipped; its directives and selection are not.
    if (selection.kind === Kind.FIELD) {
      for (const directive of selection.directives ?? []) collect(directive);
      if (selection.selectionSet) collect(selection.selectionSet);
    } else {
      collect(selection);
    }
  }
  return names;
}

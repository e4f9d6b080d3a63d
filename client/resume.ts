import type { FormattedExecutionResult, SubscribePayload } from 'graphql-ws';

/**
 * What makes a `messageAdded` subscription resume without gaps or duplicates.
 *
 * graphql-ws's client keeps the payload object it was given and sends it
 * again, serialised afresh, on every retry. So the kit subscribes with a copy
 * of its own whose `variables.after` it moves to the cursor of each message it
 * passes on: a retry then asks the server for exactly what came after the last
 * message the app saw. The seq filter drops anything at or below the newest
 * seq already passed on (a replay overlapping live delivery, a resubscribe
 * racing a message), so the app sees every seq once, in order.
 */
export interface Resumable {
  /** The payload to hand graphql-ws: a copy whose `after` variable follows the stream. */
  readonly payload: SubscribePayload;
  /** The newest seq passed on so far; null before the first. */
  readonly lastSeq: number | null;
  /** Whether to pass this result on; moves `after` and lastSeq when it is a new message. */
  accept(result: FormattedExecutionResult<unknown, unknown>): boolean;
}

/**
 * Where a document's `messageAdded` field takes `after` from and answers
 * under: the variable's name and the response key (the alias, if any). null
 * when the document has no messageAdded field with `after: $variable`.
 */
export function messageAddedField(query: string): { variable: string; key: string } | null {
  const field = /(?:\b(\w+)\s*:\s*)?\bmessageAdded\s*\(([^)]*)\)/.exec(query);
  if (!field) return null;
  const variable = /\bafter\s*:\s*\$(\w+)/.exec(field[2] ?? '')?.[1];
  return variable ? { variable, key: field[1] ?? 'messageAdded' } : null;
}

interface MessageLike {
  seq?: unknown;
  cursor?: unknown;
}

/**
 * Wraps a subscribe payload. Documents without `messageAdded(after: $var)`
 * pass through untouched (accept() always says yes). A messageAdded document
 * must select `seq` and `cursor` for the filter and the rewrite to apply.
 * `text` is the document's, for a payload that names it by id instead.
 */
export function resumable(original: SubscribePayload, text: string = original.query): Resumable {
  const field = messageAddedField(text);
  if (!field) return { payload: original, lastSeq: null, accept: () => true };
  const { variable, key } = field;
  const variables: Record<string, unknown> = { ...(original.variables ?? {}) };
  const payload: SubscribePayload = { ...original, variables };
  let lastSeq: number | null = null;
  return {
    payload,
    get lastSeq() {
      return lastSeq;
    },
    accept(result) {
      const message = (result.data as Record<string, MessageLike | undefined> | null | undefined)?.[key];
      if (!message || typeof message.seq !== 'number') return true; // errors and unexpected shapes go to the app as they are
      if (lastSeq !== null && message.seq <= lastSeq) return false;
      lastSeq = message.seq;
      if (typeof message.cursor === 'string') variables[variable] = message.cursor;
      return true;
    },
  };
}

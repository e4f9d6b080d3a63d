import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Viewer } from '../auth/viewer.js';
import { badInput, forbidden, publicError, rateLimited, type ChatError } from '../errors.js';
import type { SocketCaps, SocketSlot } from '../limits/socket-caps.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { wantsMultipartSubscription } from './multipart.js';
import type { OriginPolicy } from './origins.js';

/** How a subscription over HTTP is streamed: yoga's SSE, or Apollo's multipart protocol (multipart.ts). */
export type StreamFormat = 'sse' | 'multipart';

/**
 * The format a subscription asked for with this request would be streamed
 * in, or null when neither fits its Accept. multipart.ts takes Apollo's
 * `multipart/mixed;subscriptionSpec=1.0` (over whatever else is listed);
 * otherwise yoga streams SSE when any listed media type matches
 * `text/event-stream`, wildcards included, compared in lower case, with no
 * charset but UTF-8 (graphql-yoga's result-processor/accept.ts, which also
 * takes a missing or empty Accept as `*` + `/*`). Nothing else streams a
 * subscription: yoga's JSON processors take no stream, and its own
 * multipart processor is not offered for subscriptions.
 */
export function streamFormatOf(request: Request): StreamFormat | null {
  if (wantsMultipartSubscription(request)) return 'multipart';
  const accept = request.headers.get('accept') || '*/*';
  const accepted = accept
    .replace(/\s/g, '')
    .toLowerCase()
    .split(',')
    .some((entry) => {
      const [mediaType = '', ...params] = entry.split(';');
      const charset = params.find((param) => param.includes('charset=')) ?? 'charset=utf-8';
      if (charset !== 'charset=utf-8') return false;
      const [type, subtype] = mediaType.split('/');
      return (type === '*' || type === 'text') && (subtype === '*' || subtype === 'event-stream');
    });
  return accepted ? 'sse' : null;
}

export interface HttpSubscriptionsOptions {
  origins: OriginPolicy;
  /** Open SSE and multipart streams per user (Limits.streams). */
  streams: SocketCaps;
  metrics: Metrics;
  logger: Logger;
}

const WHAT_TO_SEND =
  'A subscription over HTTP needs `Accept: text/event-stream` (SSE) or `Accept: multipart/mixed;subscriptionSpec=1.0` ' +
  "(Apollo's multipart protocol); or subscribe over WebSocket (graphql-transport-ws) at the same path";

/**
 * A stream refused with RATE_LIMITED frees no place at a known time: one
 * frees when another of the user's streams closes. Clients wait this long.
 */
const STREAM_RETRY_AFTER_SECONDS = 5;

/**
 * Decides, where a subscription over HTTP is about to start (after its
 * document and context, before its `subscribe` resolver runs), whether it
 * starts at all:
 * - a request whose Accept no transport can stream gets 406 with an error
 *   that says what to send (yoga answered 406 only after the resolver had
 *   registered a live source that nothing would ever end);
 * - a browser page of a disallowed origin gets 403, whatever the Accept
 *   looks like (origins.ts): it is the stream, not the header's spelling,
 *   that a cross-site page must not open;
 * - a user with MAX_STREAMS_PER_USER streams open gets RATE_LIMITED (its
 *   stream's one result); a stream that ends frees its place.
 * The refusals of the first two are plain JSON responses (the client asked
 * for no format that can carry them, or is not to be answered in one).
 *
 * And every live source a request opened has an owner: its stream ends
 * when the client goes (the request's signal), even if no response was ever
 * written, and a result that no transport takes (no processor: yoga's 406)
 * is ended at once.
 */
export function useHttpSubscriptions(options: HttpSubscriptionsOptions): Plugin {
  const { origins, streams, metrics } = options;
  /** Requests refused before they subscribed, with the status they are answered with. */
  const refused = new WeakMap<Request, { status: number; error: ChatError }>();
  /** The place each admitted request holds under the per-user cap. */
  const slots = new WeakMap<Request, SocketSlot>();
  return {
    async onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as { request?: Request; viewer?: Viewer | null };
      const request = context.request;
      if (!request) return; // a WebSocket operation (operations.ts): the socket streams it
      const refuse = (status: number, error: ChatError) => {
        refused.set(request, { status, error });
        setResultAndStopExecution({ errors: [error] });
      };
      if (!origins.allowsRequest(request)) return refuse(403, forbidden('Origin not allowed'));
      if (streamFormatOf(request) === null) return refuse(406, badInput(WHAT_TO_SEND));
      // Without a viewer the resolver refuses it (UNAUTHENTICATED) and nothing is opened.
      if (!context.viewer) return;
      const slot = await streams.acquire(context.viewer.userId);
      if (!slot) {
        metrics.rateLimited('streams-per-user');
        const message = `At most ${streams.max} open SSE and multipart subscriptions per user; close one or use a WebSocket`;
        return void setResultAndStopExecution({ errors: [rateLimited(STREAM_RETRY_AFTER_SECONDS, message)] });
      }
      slots.set(request, slot);
      return {
        onSubscribeResult({ result }) {
          // Refused by its resolver (FORBIDDEN, NOT_FOUND): no stream was opened.
          if (!isAsyncIterable(result)) return void slot.release();
          return { onEnd: () => slot.release() };
        },
      };
    },
    onResultProcess(payload) {
      const { request, result } = payload;
      const refusal = refused.get(request);
      if (refusal) {
        payload.setResultProcessor(
          (_result, fetchAPI) =>
            new fetchAPI.Response(JSON.stringify({ errors: [publicError(refusal.error)] }), {
              status: refusal.status,
              headers: { 'content-type': 'application/json; charset=utf-8' },
            }),
          'application/json',
        );
        return;
      }
      // No stream came of it (refused by its resolver, or its subscribe threw and yoga answered the error).
      if (!isAsyncIterable(result)) return void slots.get(request)?.release();
      const end = () => void Promise.resolve(result[Symbol.asyncIterator]().return?.()).catch(() => {});
      // Last of the plugins that choose a processor: none chosen means yoga answers 406 and drops the result.
      if (!payload.resultProcessor) {
        options.logger.warn('a subscription over HTTP found no transport; its live source is ended');
        return end();
      }
      // The request owns its stream: a client gone before its response was written never reads or cancels
      // the body, so its going (the request's signal) ends the stream, whatever the transport does.
      if (request.signal.aborted) return end();
      request.signal.addEventListener('abort', end, { once: true });
    },
  };
}

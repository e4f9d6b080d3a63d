import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { publicError } from '../errors.js';
import type { Logger } from '../logger.js';

/** The Accept that Apollo's clients (and Router) send for a subscription over HTTP. */
const SUBSCRIPTION_SPEC = /multipart\/mixed\s*;[^,]*subscriptionspec\s*=\s*"?1\.0"?/i;

export const wantsMultipartSubscription = (request: Request) => SUBSCRIPTION_SPEC.test(request.headers.get('accept') ?? '');

export interface MultipartOptions {
  /** How often an idle stream gets a heartbeat part `{}` (ms). */
  heartbeatMs: number;
  logger: Logger;
}

const BOUNDARY = 'graphql';
const CONTENT_TYPE = `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec=1.0`;
const PART_HEAD = '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n';

/** What a client sees when its stream ends by anything but completion (a slow reader, a failed source). */
const interrupted = {
  message: 'The subscription was interrupted; subscribe again with `after` set to the last cursor received',
  extensions: { code: 'SERVICE_UNAVAILABLE' },
};
/** ... and when this instance stops (another takes over). */
const goingAway = {
  message: 'The server is restarting; subscribe again with `after` set to the last cursor received',
  extensions: { code: 'SERVICE_UNAVAILABLE' },
};

export interface MultipartSubscriptions {
  /** For yoga's plugins. */
  readonly plugin: Plugin;
  /** The server is stopping: every open stream, and any that starts now, ends with a transport error (SERVICE_UNAVAILABLE). */
  goingAway(): void;
}

/**
 * Subscriptions over Apollo's multipart HTTP protocol
 * (`Accept: multipart/mixed;subscriptionSpec=1.0`), which yoga refuses with
 * 406 (it offers SSE and WebSocket for subscriptions). The operation runs
 * through yoga like any other (parse, validate, context, auth, masking), so
 * only the framing is ours: each event is a part `{"payload":{...}}` with its
 * GraphQL errors inside; an idle stream gets a heartbeat part `{}` every
 * heartbeatMs; a transport error is `{"payload":null,"errors":[...]}` and
 * ends the stream, and so does completion (`--graphql--`). A subscription
 * refused before it starts (UNAUTHENTICATED, FORBIDDEN) is one payload part
 * with its errors. Reading is pulled: a reader that stops reading stops the
 * pulls, the subscription's bounded queue (live.ts) overflows, and the stream
 * ends with the transport error, after which the client resumes with `after`.
 * A client that disconnects ends its subscription; a server that stops ends
 * every stream with a transport error, as WebSockets get 1001.
 */
export function createMultipartSubscriptions(options: MultipartOptions): MultipartSubscriptions {
  const subscriptions = new WeakSet<Request>();
  const streams: OpenStreams = { open: new Set(), closing: false };
  return {
    plugin: {
      onSubscribe({ args: { contextValue } }) {
        const request = (contextValue as { request?: Request }).request;
        if (request) subscriptions.add(request);
      },
      onResultProcess(payload) {
        const { request } = payload;
        if (!subscriptions.has(request) || !wantsMultipartSubscription(request)) return;
        payload.setResultProcessor(
          (result, fetchAPI) =>
            multipartResponse(result as MultipartResult, { ...options, fetchAPI, streams, signal: request.signal }),
          'multipart/mixed',
        );
      },
    },
    goingAway() {
      streams.closing = true;
      for (const end of streams.open) end(goingAway);
    },
  };
}

type MultipartResult = ExecutionResult | AsyncIterable<ExecutionResult>;
type TransportError = { message: string; extensions: { code: string } };
interface OpenStreams {
  /** How to end each open stream with a transport error. */
  open: Set<(error: TransportError) => void>;
  closing: boolean;
}

interface StreamOptions extends MultipartOptions {
  fetchAPI: { ReadableStream: typeof ReadableStream; TextEncoder: typeof TextEncoder; Response: typeof Response };
  streams?: OpenStreams;
  /** Aborted when the client goes away (its connection closed): the subscription ends with it. */
  signal?: AbortSignal;
}

/** A subscription's result (its events, or the errors that refused it) as a multipart response. */
export function multipartResponse(result: MultipartResult, options: StreamOptions): Response {
  return new options.fetchAPI.Response(multipartStream(result, options), {
    status: 200,
    // One stream per connection: the socket closes with the stream, so a server that stops is not kept waiting.
    headers: { 'content-type': CONTENT_TYPE, 'cache-control': 'no-cache', 'x-accel-buffering': 'no', connection: 'close' },
  });
}

function multipartStream(result: MultipartResult, options: StreamOptions): ReadableStream<Uint8Array> {
  const { heartbeatMs, logger, fetchAPI, signal, streams = { open: new Set(), closing: false } } = options;
  const encoder = new fetchAPI.TextEncoder();
  // Each part ends with the next delimiter, so a client parses it as soon as it arrives.
  const part = (json: string) => encoder.encode(`${PART_HEAD}${json}\r\n--${BOUNDARY}`);
  const iterator: AsyncIterator<ExecutionResult, unknown> | null = isAsyncIterable(result)
    ? (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]()
    : null;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let finished = false;
  let stop: ((error: TransportError) => void) | undefined;
  const release = () => {
    finished = true;
    clearInterval(heartbeat);
    if (stop) streams.open.delete(stop);
    signal?.removeEventListener('abort', gone);
  };
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    release();
    controller.enqueue(encoder.encode('--\r\n'));
    controller.close();
  };
  // A client that disconnected: nothing more is written, and the source is released at once.
  const gone = () => {
    if (finished) return;
    release();
    void Promise.resolve(iterator?.return?.()).catch(() => {});
  };
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: TransportError) => {
    if (finished) return;
    controller.enqueue(part(JSON.stringify({ payload: null, errors: [error] })));
    finish(controller);
    void Promise.resolve(iterator?.return?.()).catch(() => {});
  };
  return new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`--${BOUNDARY}`));
      if (!iterator) {
        controller.enqueue(part(JSON.stringify({ payload: publicResult(result as ExecutionResult) })));
        return finish(controller);
      }
      if (streams.closing) return fail(controller, goingAway);
      if (signal?.aborted) return gone();
      signal?.addEventListener('abort', gone, { once: true });
      stop = (error) => fail(controller, error);
      streams.open.add(stop);
      // A first heartbeat sends the headers at once; later ones only when the reader keeps up.
      controller.enqueue(part('{}'));
      heartbeat = setInterval(() => {
        if (!finished && (controller.desiredSize ?? 0) > 0) controller.enqueue(part('{}'));
      }, heartbeatMs);
      heartbeat.unref?.();
    },
    async pull(controller) {
      if (!iterator || finished) return;
      try {
        const { value, done } = await iterator.next();
        if (finished) return;
        if (!done && value != null) controller.enqueue(part(JSON.stringify({ payload: publicResult(value) })));
        if (done) finish(controller);
      } catch (error) {
        if (finished) return;
        const coded = error instanceof GraphQLError && error.extensions.code ? error : null;
        logger.info('multipart subscription interrupted', { code: coded?.extensions.code ?? null });
        logger.debug('multipart subscription interrupted', { reason: (error as Error)?.message });
        fail(controller, coded ? (publicError(coded) as TransportError) : interrupted);
      }
    },
    async cancel() {
      if (finished) return;
      release();
      await iterator?.return?.();
    },
  });
}

/** data and errors as a client may see them (errors.ts's publicError). */
function publicResult(result: ExecutionResult): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if ('data' in result) out.data = result.data;
  if (result.errors?.length) out.errors = result.errors.map((error) => publicError(error));
  return out;
}

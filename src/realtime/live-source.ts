import { AsyncQueue } from './async-queue.js';
import { identityRenderer, type Renderer, type ViewerRef } from './group.js';

/** How a live stream ended: the client is told `complete`, an error, or its socket is told to come back later. */
export type EndReason = 'complete' | 'error' | 'overload';

/**
 * Where a bound live source's renderings go (a transport's subscription), and
 * how it hears of the end. The renderer is the group's once bound (the first
 * subscriber's of its key), so a sink need not keep one.
 */
export interface Sink<Out> {
  /** Subscribers with the same key in one room share renderings: the selection, and the field it is on. */
  readonly key: string;
  write(out: Out): void;
  /** Called once, however the stream ended. */
  end(reason: EndReason): void;
}

/**
 * What a subscription's `subscribe` resolver returns: its source, already
 * registered (so a leave during its checks still ends it), not yet bound.
 * A transport that renders per group binds it to a sink (the WebSocket
 * server); anything else iterates it (graphql-js, as yoga's SSE does), and
 * then each value is executed for that one subscriber.
 */
export abstract class LiveSource<T> implements AsyncIterable<T> {
  abstract bind<Out>(sink: Sink<Out>, renderer: Renderer<T, Out>): void;
  /** Ends it, bound or not; a sink hears `complete`. */
  abstract end(): void;

  /** The same source with each value mapped (e.g. a message -> a NewMessage) before it is rendered. */
  map<U>(map: (value: T) => U): LiveSource<U> {
    return new MappedSource(this, map);
  }

  /**
   * For consumers that pull: a queue of at most `limit` values. A consumer
   * that falls that far behind gets an error and resumes (with `after`).
   */
  [Symbol.asyncIterator](limit = 1000): AsyncIterator<T> {
    const queue = new AsyncQueue<T>(() => this.end());
    this.bind<T>(
      {
        key: `iterator:${++iterators}`,
        write: (value) => (queue.size >= limit ? queue.fail(new Error('The subscriber fell too far behind')) : queue.push(value)),
        end: (reason) => (reason === 'complete' ? queue.end() : queue.fail(new Error(`The stream ended: ${reason}`))),
      },
      identityRenderer,
    );
    return queue;
  }
}

let iterators = 0;

class MappedSource<T, U> extends LiveSource<U> {
  constructor(
    private readonly inner: LiveSource<T>,
    private readonly mapValue: (value: T) => U,
  ) {
    super();
  }

  bind<Out>(sink: Sink<Out>, renderer: Renderer<U, Out>): void {
    this.inner.bind(sink, new MappedRenderer(renderer, this.mapValue));
  }

  end(): void {
    this.inner.end();
  }
}

class MappedRenderer<T, U, Out> implements Renderer<T, Out> {
  constructor(
    private readonly inner: Renderer<U, Out>,
    private readonly mapValue: (value: T) => U,
  ) {}

  render(value: T, viewer: ViewerRef) {
    return this.inner.render(this.mapValue(value), viewer);
  }
}

import type { MessageRow } from '../db/schema.js';
import { AsyncQueue } from './async-queue.js';
import { identityRenderer, type Renderer, type ViewerRef } from './fanout.js';
import type { RoomActivity } from './feed.js';
import type { ActivityMember, Binding, EndReason, MessageMember } from './members.js';

/**
 * What a subscription's `subscribe` resolver returns: its source, already
 * registered (so a leave during its checks still ends it), not yet bound.
 * A transport that renders per group binds it (the WebSocket adapter);
 * anything else iterates it (graphql-js, as yoga's SSE does), and then each
 * value is executed for that one subscriber.
 */
export abstract class LiveSource<T> implements AsyncIterable<T> {
  abstract bind<Out>(binding: Binding<Out>, renderer: Renderer<T, Out>): void;
  /** Ends it, bound or not; a binding hears `complete`. */
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

  bind<Out>(binding: Binding<Out>, renderer: Renderer<U, Out>): void {
    this.inner.bind(binding, new MappedRenderer(renderer, this.mapValue));
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

/** messageAdded: one room's messages for one viewer, after a position. */
export class RoomMessages extends LiveSource<MessageRow> {
  constructor(private readonly member: MessageMember) {
    super();
  }

  bind<Out>(binding: Binding<Out>, renderer: Renderer<MessageRow, Out>): void {
    (this.member as MessageMember<Out>).bind(binding, renderer);
  }

  end(): void {
    this.member.end();
  }
}

/** roomEvents: one room's other events for one viewer, from the moment it is bound. */
export class RoomActivities extends LiveSource<RoomActivity> {
  constructor(private readonly member: ActivityMember) {
    super();
  }

  bind<Out>(binding: Binding<Out>, renderer: Renderer<RoomActivity, Out>): void {
    (this.member as ActivityMember<Out>).bind(binding, renderer);
  }

  end(): void {
    this.member.end();
  }
}

export type { Binding, EndReason };

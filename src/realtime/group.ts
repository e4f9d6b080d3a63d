import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';

/** Who a rendering is for. */
export interface ViewerRef {
  readonly userId: string;
}

/** One event as a group's subscribers receive it, and whether producing it depended on who looks. */
export interface Rendered<Out> {
  out: Out;
  viewerDependent: boolean;
}

/**
 * Turns an event into what a sink receives (a transport's bytes, or the
 * value itself for an iterator). A group renders each event once; when the
 * rendering reports that it read the viewer, once per distinct viewer.
 */
export interface Renderer<T, Out> {
  render(value: T, viewer: ViewerRef): Promise<Rendered<Out>>;
}

/** The value itself: for consumers that execute per subscriber (graphql-js iterating a live source). */
export const identityRenderer: Renderer<never, never> = {
  render: async (value) => ({ out: value, viewerDependent: false }),
};

/** A subscriber as its group sees it: whose it is, and whether it takes this event now (its position, its state). */
export interface GroupSubscriber<E, Out> {
  readonly viewer: ViewerRef;
  /** Called in event order with the event's rendering for this subscriber's viewer; it writes it (true) or skips it. */
  deliver(event: E, out: Out): boolean;
  /** Ended by the group: its rendering failed or its backlog overflowed. */
  fail(reason: 'error' | 'overload'): void;
}

export interface SubscriberGroupOptions<E, Out> {
  key: string;
  /** The first subscriber's renderer; subscribers of one key render alike (same field, same selection). */
  renderer: Renderer<E, Out>;
  logger: Logger;
  /** Frames written per rendering, and the send→deliver latency once per rendering (when `sentAt` tells the event's time). */
  metrics?: Metrics;
  sentAt?: ((event: E) => number) | null;
  /**
   * Events in flight (rendering, or waiting for an earlier one) before the group gives up
   * and ends its subscribers, who resume from the database.
   * @default 1000
   */
  maxBacklog?: number;
}

/**
 * A feed's subscribers that share renderings: the same selection (document,
 * operation, variables) of the same field in one room. Each event is
 * rendered once, and the same rendering goes to every subscriber, in event
 * order; only when a rendering read the viewer is it redone per viewer, so
 * nothing that depends on who looks leaks between them.
 */
export class SubscriberGroup<E, Out> {
  readonly key: string;
  /** How its events are rendered; subscribers catching up render with it too. */
  readonly renderer: Renderer<E, Out>;
  readonly subscribers = new Set<GroupSubscriber<E, Out>>();
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private readonly maxBacklog: number;

  constructor(private readonly options: SubscriberGroupOptions<E, Out>) {
    this.key = options.key;
    this.renderer = options.renderer;
    this.maxBacklog = options.maxBacklog ?? 1000;
  }

  /**
   * Renders the event (rendering may start before earlier ones were
   * delivered) and delivers it after them. With an `audience`, only
   * subscribers whose user is in it get the event, rendered for one of them:
   * it is awaited in the event's turn, so order is kept.
   */
  offer(event: E, audience?: Promise<ReadonlySet<string>>): void {
    const first = this.subscribers.values().next().value;
    if (!first) return;
    if (this.inFlight >= this.maxBacklog) return this.failAll('overload');
    this.inFlight++;
    const prepared = this.prepare(event, first.viewer, audience);
    // Caught here, and awaited again in order below: a failure is handled once, in its turn.
    prepared.catch(() => {});
    this.tail = this.tail.then(async () => {
      try {
        const ready = await prepared;
        if (ready) await this.deliver(event, ready.viewer, ready.rendered, ready.allowed);
      } catch (error) {
        this.options.logger.error('a live event could not be rendered', { group: this.key.slice(0, 80), error: error as Error });
        this.failAll('error');
      } finally {
        this.inFlight--;
      }
    });
  }

  /** The event rendered for the first subscriber allowed to see it; null when none is. */
  private async prepare(
    event: E,
    first: ViewerRef,
    audience: Promise<ReadonlySet<string>> | undefined,
  ): Promise<{ viewer: ViewerRef; rendered: Rendered<Out>; allowed: ReadonlySet<string> | null } | null> {
    if (!audience) return { viewer: first, rendered: await this.renderer.render(event, first), allowed: null };
    const allowed = await audience;
    const viewer = [...this.subscribers].find((s) => allowed.has(s.viewer.userId))?.viewer;
    return viewer ? { viewer, rendered: await this.renderer.render(event, viewer), allowed } : null;
  }

  private async deliver(
    event: E,
    renderedFor: ViewerRef,
    rendered: Rendered<Out>,
    allowed: ReadonlySet<string> | null,
  ): Promise<void> {
    let frames = 0;
    const audience = allowed ? [...this.subscribers].filter((s) => allowed.has(s.viewer.userId)) : this.subscribers;
    if (!rendered.viewerDependent) {
      for (const subscriber of audience) if (subscriber.deliver(event, rendered.out)) frames++;
      return this.counted(event, frames);
    }
    const byViewer = new Map<string, Out>([[renderedFor.userId, rendered.out]]);
    for (const subscriber of [...audience]) {
      let out = byViewer.get(subscriber.viewer.userId);
      if (out === undefined) {
        out = (await this.renderer.render(event, subscriber.viewer)).out;
        byViewer.set(subscriber.viewer.userId, out);
      }
      if (this.subscribers.has(subscriber) && subscriber.deliver(event, out)) frames++;
    }
    this.counted(event, frames);
  }

  private counted(event: E, frames: number): void {
    const { metrics, sentAt } = this.options;
    if (metrics && frames > 0) metrics.delivered(frames, sentAt ? sentAt(event) : null);
  }

  private failAll(reason: 'error' | 'overload'): void {
    for (const subscriber of [...this.subscribers]) subscriber.fail(reason);
  }
}

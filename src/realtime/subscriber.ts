import type { MessageRow } from '../db/schema.js';
import type { Renderer, SubscriberGroup, ViewerRef } from './group.js';
import { LiveSource, type EndReason, type Sink } from './live-source.js';
import type { RoomActivity } from './topics.js';

/** What a subscriber needs of its room feed (one object per feed and kind of event, shared by its subscribers). */
export interface FeedOfSubscriber<E> {
  /** The feed's group for this key, made on first use with this renderer. */
  group<Out>(key: string, renderer: Renderer<E, Out>): SubscriberGroup<E, Out>;
  /** Lets go of the subscriber (it ended). */
  remove(subscriber: Subscriber<E>): void;
}

/** A message feed, as its subscribers see it. */
export interface MessageFeedOfSubscriber extends FeedOfSubscriber<MessageRow> {
  /** The newest seq the feed has emitted. */
  readonly head: number;
  /** Messages of the room after a seq, oldest first, a page at a time. */
  replay(afterSeq: number): Promise<MessageRow[]>;
}

/**
 * One subscription's place in a room feed: registered before its checks (so
 * a leave at any moment ends it), then bound to a sink by a transport, or
 * iterated. It is itself the live source its subscribe resolver returns.
 */
export abstract class Subscriber<E> extends LiveSource<E> {
  protected sink: Sink<unknown> | null = null;
  protected group: SubscriberGroup<E, unknown> | null = null;
  protected ended = false;

  constructor(
    readonly viewer: ViewerRef,
    protected readonly feed: FeedOfSubscriber<E>,
  ) {
    super();
  }

  get userId(): string {
    return this.viewer.userId;
  }

  abstract deliver(event: E, out: unknown): boolean;

  /** Joins the group of its key; from now on renderings reach `sink.write`. */
  bind<Out>(sink: Sink<Out>, renderer: Renderer<E, Out>): void {
    if (this.ended) return sink.end('complete');
    this.sink = sink;
    this.group = this.feed.group(sink.key, renderer);
    this.group.subscribers.add(this);
  }

  fail(reason: 'error' | 'overload'): void {
    this.end(reason);
  }

  /** Ends the stream once; the sink (if bound) hears why. */
  end(reason: EndReason = 'complete'): void {
    if (this.ended) return;
    this.ended = true;
    this.group?.subscribers.delete(this);
    this.feed.remove(this);
    this.sink?.end(reason);
    this.sink = null;
  }
}

/**
 * A subscriber of a room's messages. It is given its start position once the
 * feed knows its head, and bound later. Whatever it has not delivered by then
 * (everything after `after`, or what was emitted while it was being set up)
 * it reads from the database, a page at a time, rendered for itself; then it
 * takes the group's shared renderings, skipping by seq what it already has.
 * It holds no backlog.
 */
export class MessageSubscriber extends Subscriber<MessageRow> {
  /** The seq of the newest message it delivered (or started after). */
  position = 0;
  private live = false;

  constructor(
    viewer: ViewerRef,
    protected override readonly feed: MessageFeedOfSubscriber,
  ) {
    super(viewer, feed);
  }

  start(afterSeq: number | null): void {
    this.position = afterSeq ?? this.feed.head;
  }

  override bind<Out>(sink: Sink<Out>, renderer: Renderer<MessageRow, Out>): void {
    super.bind(sink, renderer);
    if (!this.ended) void this.catchUp();
  }

  deliver(message: MessageRow, out: unknown): boolean {
    if (!this.live || this.ended || message.seq <= this.position) return false;
    this.position = message.seq;
    this.sink!.write(out);
    return true;
  }

  /** Reads and delivers what the feed emitted before this subscriber went live, then goes live. */
  private async catchUp(): Promise<void> {
    const { feed } = this;
    try {
      let idle = 0;
      while (!this.ended && this.position < feed.head) {
        const rows = await feed.replay(this.position);
        for (const row of rows) {
          if (this.ended || row.seq <= this.position) continue;
          const { out } = await this.group!.renderer.render(row, this.viewer);
          if (this.ended) return;
          this.position = row.seq;
          this.sink!.write(out);
        }
        // The feed emits committed seqs only, so the database has them; a few empty reads mean something else is wrong.
        if (rows.length === 0 && ++idle >= 3)
          throw new Error(`no rows after seq ${this.position} below the feed head ${feed.head}`);
      }
      this.live = true;
    } catch {
      this.end('error');
    }
  }
}

/** A subscriber of a room's other events (edits, members, typing, receipts), from the moment it is bound. */
export class ActivitySubscriber extends Subscriber<RoomActivity> {
  deliver(_event: RoomActivity, out: unknown): boolean {
    if (this.ended) return false;
    this.sink!.write(out);
    return true;
  }
}

import type { MessageRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventBus } from './bus.js';
import { SubscriberGroup, type Renderer } from './group.js';
import {
  ActivitySubscriber,
  MessageSubscriber,
  type FeedOfSubscriber,
  type MessageFeedOfSubscriber,
  type Subscriber,
} from './subscriber.js';
import { topics, type RoomActivity, type RoomEvent } from './topics.js';

/** What feeds read from the database: the record that pub/sub only speeds up. */
export interface FeedSource {
  /** Messages with seq > afterSeq, oldest first. */
  after(roomId: string, afterSeq: number, limit: number): Promise<MessageRow[]>;
  /** Each room's newest committed seq. */
  heads(roomIds: readonly string[]): Promise<Array<{ id: string; lastSeq: number }>>;
  /** Which of these (room, user) pairs are not memberships now. */
  notMembers(pairs: ReadonlyArray<{ roomId: string; userId: string }>): Promise<Array<{ roomId: string; userId: string }>>;
  /** Which of these users are MODERATOR or above in the room now. */
  moderators(roomId: string, userIds: readonly string[]): Promise<string[]>;
}

export interface RoomFeedOptions {
  roomId: string;
  bus: EventBus;
  source: Pick<FeedSource, 'after' | 'heads' | 'moderators'>;
  logger: Logger;
  metrics?: Metrics;
  /** How long an out-of-order message waits for its predecessor over pub/sub before the database is asked (ms). */
  gapGraceMs: number;
  /** Rows per database read when filling a gap or catching a subscriber up. */
  pageSize: number;
  /** Called when the feed has no subscriber left, or could not start: whoever keeps it lets go of it. */
  release(feed: RoomFeed): void;
}

/**
 * One room's live events on this instance, from one bus subscription.
 *
 * The per-room seq in the database drives delivery; pub/sub is the doorbell.
 * The feed emits seq head+1, head+2, ... and nothing else, in order. A
 * message that arrives early waits (concurrent senders publish after their
 * own commits, so 219 can arrive before 218); when its predecessor has not
 * come over pub/sub within gapGraceMs the feed reads the gap from the
 * database. Seqs commit in order, so a published seq proves all smaller ones
 * committed. `fill()` does the same read when the hub's poll finds the room
 * ahead of the feed.
 *
 * Subscribers (subscriber.ts) are grouped by what they render (group.ts):
 * each emitted event is rendered once per group, not once per subscriber.
 */
export class RoomFeed {
  readonly roomId: string;
  /** The seq of the newest message emitted to subscribers; every smaller one was emitted before it. */
  head = 0;
  isReady = false;
  /** Resolves once the feed is subscribed and knows its head; rejects when it could not start. */
  readonly ready: Promise<void>;
  private readonly messages: FeedMessageSubscribers;
  private readonly activity: FeedSubscribers<RoomActivity>;
  /** Arrived ahead of a missing predecessor. */
  private readonly early = new Map<number, MessageRow>();
  private busSubscription: Promise<number> | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private fillAgain = false;
  private disposed = false;

  constructor(private readonly options: RoomFeedOptions) {
    this.roomId = options.roomId;
    this.messages = new FeedMessageSubscribers(this, options, () => this.subscriberLeft());
    this.activity = new FeedSubscribers<RoomActivity>(options, () => this.subscriberLeft(), null);
    this.ready = this.init();
    // A feed that failed to start is dropped; its subscribers see the error.
    this.ready.catch(() => options.release(this));
  }

  private async init(): Promise<void> {
    // Subscribe before reading the head: nothing committed after the read can be missed.
    this.busSubscription = this.options.bus.subscribe(topics.room(this.roomId), (event) => this.onEvent(event));
    await this.busSubscription;
    const [head] = await this.options.source.heads([this.roomId]);
    this.head = head?.lastSeq ?? 0;
    for (const seq of [...this.early.keys()]) if (seq <= this.head) this.early.delete(seq);
    this.isReady = true;
    this.drain();
  }

  /** A subscriber of the room's messages, registered now; it is given its position once the feed is ready. */
  addMessageSubscriber(userId: string): MessageSubscriber {
    const subscriber = new MessageSubscriber({ userId }, this.messages);
    this.messages.subscribers.add(subscriber);
    return subscriber;
  }

  addActivitySubscriber(userId: string): ActivitySubscriber {
    const subscriber = new ActivitySubscriber({ userId }, this.activity);
    this.activity.subscribers.add(subscriber);
    return subscriber;
  }

  /** Released once no subscriber of either kind is left. */
  private subscriberLeft(): void {
    if (this.messages.subscribers.size === 0 && this.activity.subscribers.size === 0) this.options.release(this);
  }

  private subscribers(): Array<Subscriber<MessageRow> | Subscriber<RoomActivity>> {
    return [...this.messages.subscribers, ...this.activity.subscribers];
  }

  userIds(): string[] {
    return [...new Set(this.subscribers().map((s) => s.userId))];
  }

  /** Ends the user's subscriptions to this room. */
  endUser(userId: string): void {
    for (const subscriber of this.subscribers()) if (subscriber.userId === userId) subscriber.end();
  }

  private onEvent(event: RoomEvent): void {
    if (event.type === 'message') {
      this.accept(event.message);
      if (this.isReady) this.drain();
      return;
    }
    // The leaver's subscriptions end first: they get none of the room's events from here on.
    if (event.type === 'member' && event.change === 'LEFT') this.endUser(event.userId);
    if (this.activity.groups.size === 0) return;
    const audience = 'audience' in event && event.audience === 'moderators' ? this.moderatorsNow() : undefined;
    for (const group of this.activity.groups.values()) group.offer(event, audience);
  }

  /**
   * Which of this feed's subscribers are MODERATOR and above, asked of the
   * database as a moderators-only event arrives: roles are read at delivery
   * time, so a moderator demoted while subscribed gets none from then on.
   * When the database cannot say, nobody gets the event (closed, not open).
   */
  private async moderatorsNow(): Promise<ReadonlySet<string>> {
    const userIds = [...new Set([...this.activity.subscribers].map((s) => s.userId))];
    try {
      return new Set(userIds.length === 0 ? [] : await this.options.source.moderators(this.roomId, userIds));
    } catch (error) {
      this.options.logger.warn('could not read who moderates a room; a moderators-only event was not delivered', {
        roomId: this.roomId,
        error: error as Error,
      });
      return new Set();
    }
  }

  private accept(message: MessageRow): void {
    if (message.roomId !== this.roomId || message.seq <= this.head) return;
    this.early.set(message.seq, message);
  }

  private drain(): void {
    let next = this.early.get(this.head + 1);
    while (next) {
      this.early.delete(next.seq);
      this.head = next.seq;
      for (const group of this.messages.groups.values()) group.offer(next);
      next = this.early.get(this.head + 1);
    }
    if (this.early.size > 0 && !this.gapTimer && !this.disposed) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        if (this.early.size > 0) this.fill();
      }, this.options.gapGraceMs);
      this.gapTimer.unref();
    }
  }

  /** Reads what the feed has not emitted yet from the database. One read at a time per feed. */
  fill(): void {
    if (!this.isReady || this.disposed) return;
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = true;
    void this.fillFromDatabase();
  }

  private async fillFromDatabase(): Promise<void> {
    const { source, pageSize, logger } = this.options;
    try {
      do {
        this.fillAgain = false;
        let rows: MessageRow[];
        do {
          rows = await source.after(this.roomId, this.head, pageSize);
          let filled = 0;
          for (const row of rows) if (row.seq > this.head && !this.early.has(row.seq)) filled++;
          this.options.metrics?.gapFilled(filled);
          for (const row of rows) this.accept(row);
          this.drain();
        } while (rows.length === pageSize && !this.disposed);
      } while (this.fillAgain && !this.disposed);
    } catch (error) {
      // The next poll (or the next message) tries again.
      logger.warn('live feed could not read missed messages', { roomId: this.roomId, error: error as Error });
    } finally {
      this.filling = false;
    }
  }

  /** Ends every subscriber of the room and its bus subscription. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    for (const subscriber of this.subscribers()) subscriber.end();
    // Not awaited: a SUBSCRIBE queued during a Redis outage may never answer,
    // and stopping must not wait for it (closing Redis fails it, and then
    // there is nothing to undo).
    void this.busSubscription?.then(
      (id) => {
        if (id !== undefined && id !== null) this.options.bus.unsubscribe(id);
      },
      () => {},
    );
  }
}

/** A feed's subscribers of one kind of event, and their groups (one object per feed and kind, not per subscriber). */
class FeedSubscribers<E> implements FeedOfSubscriber<E> {
  readonly subscribers = new Set<Subscriber<E>>();
  readonly groups = new Map<string, SubscriberGroup<E, unknown>>();

  constructor(
    private readonly deps: Pick<RoomFeedOptions, 'logger' | 'metrics'>,
    private readonly onRemoved: () => void,
    /** When the event was sent (ms), for the send→deliver latency; null: not timed. */
    private readonly sentAt: ((event: E) => number) | null,
  ) {}

  group<Out>(key: string, renderer: Renderer<E, Out>): SubscriberGroup<E, Out> {
    let group = this.groups.get(key) as SubscriberGroup<E, Out> | undefined;
    if (!group) {
      const { logger, metrics } = this.deps;
      group = new SubscriberGroup<E, Out>({ key, renderer, logger, metrics, sentAt: this.sentAt });
      this.groups.set(key, group);
    }
    return group;
  }

  remove(subscriber: Subscriber<E>): void {
    this.subscribers.delete(subscriber);
    for (const [key, group] of this.groups) if (group.subscribers.size === 0) this.groups.delete(key);
    this.onRemoved();
  }
}

/** The message subscribers also learn the feed's head and read what they missed. */
class FeedMessageSubscribers extends FeedSubscribers<MessageRow> implements MessageFeedOfSubscriber {
  constructor(
    private readonly feed: RoomFeed,
    private readonly options: RoomFeedOptions,
    onRemoved: () => void,
  ) {
    super(options, onRemoved, (message) => message.createdAt.getTime());
  }

  get head(): number {
    return this.feed.head;
  }

  replay(afterSeq: number): Promise<MessageRow[]> {
    return this.options.source.after(this.feed.roomId, afterSeq, this.options.pageSize);
  }
}

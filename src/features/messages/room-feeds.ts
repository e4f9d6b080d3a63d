import type { MessageRow } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import { AsyncQueue } from '../../pubsub/async-queue.js';
import type { EventBus } from '../../pubsub/bus.js';
import { topics, type RoomEvent } from '../../pubsub/topics.js';

/** Every room event but new messages (those go through the seq-ordered path). */
export type RoomActivity = Exclude<RoomEvent, { type: 'message' }>;

/** What a feed delivers to: a messageAdded stream or a roomEvents stream. */
interface FeedSubscriber {
  readonly userId: string;
  /** New messages, in seq order without gaps. */
  offer(message: MessageRow): void;
  /** Everything else, in the order it arrived. */
  notify(event: RoomActivity): void;
  end(): void;
}

/** What the feeds read from the database: the record that pub/sub only speeds up. */
export interface FeedSource {
  /** Messages with seq > afterSeq, oldest first. */
  after(roomId: string, afterSeq: number, limit: number): Promise<MessageRow[]>;
  heads(roomIds: readonly string[]): Promise<Array<{ id: string; lastSeq: number }>>;
  existingMemberships(roomIds: readonly string[], userIds: readonly string[]): Promise<Array<{ roomId: string; userId: string }>>;
}

export interface RoomFeedsOptions {
  bus: EventBus;
  source: FeedSource;
  logger: Logger;
  /** How often every feed compares its position (and its viewers' memberships) with the database. */
  pollMs: number;
  /** How long an out-of-order message waits for its predecessor over pub/sub before the database is asked. */
  gapGraceMs?: number;
  /** Rows per database read when replaying or filling. */
  pageSize?: number;
}

/**
 * Live delivery for a room's subscriptions (`messageAdded`, `roomEvents` and
 * the room's share of `myEvents`): one feed per room with subscribers on this
 * instance, so one pub/sub subscription per room, not per socket.
 *
 * The per-room seq in the database drives delivery; pub/sub is the doorbell:
 * - a feed emits seq head+1, head+2, ... and nothing else, in order. A message
 *   that arrives early waits (concurrent senders publish after their own
 *   commits, so 219 can arrive before 218); when its predecessor has not come
 *   over pub/sub within gapGraceMs the feed reads the gap from the database.
 *   Seqs commit in order, so a published seq proves all smaller ones committed.
 * - every pollMs, and whenever the Redis subscriber reconnects, feeds compare
 *   their head with rooms.last_seq, so a message whose announcement was lost
 *   (Redis down, a publish that failed) is still delivered.
 * - subscribers resuming from a cursor register first, then replay from the
 *   database lazily, page by page, while live messages wait behind the replay.
 * Membership is checked when a subscriber registers, on each member LEFT
 * event (the leaving instance also calls memberLeft directly; the leaver's
 * streams end before anything else is delivered), and again on each poll, so
 * a member who leaves stops receiving at once.
 */
export class RoomFeeds {
  private readonly feeds = new Map<string, RoomFeed>();
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  readonly gapGraceMs: number;
  readonly pageSize: number;

  constructor(private readonly options: RoomFeedsOptions) {
    this.gapGraceMs = options.gapGraceMs ?? 25;
    this.pageSize = options.pageSize ?? 200;
  }

  get source() {
    return this.options.source;
  }
  get logger() {
    return this.options.logger;
  }

  start(): void {
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs);
    this.pollTimer.unref();
    this.options.bus.onResubscribed(() => void this.poll());
  }

  /** Ends every live subscription (their clients see `complete`) and drops the feeds. */
  async stop(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.allSettled(feeds.map((feed) => feed.dispose()));
  }

  /**
   * Registers a subscriber of the room's live messages for `userId`. With
   * `afterSeq`, the messages after it come first, read from the database.
   * Without, delivery starts after the newest message committed now.
   */
  async open(roomId: string, userId: string, afterSeq: number | null): Promise<LiveMessages> {
    const feed = this.feedOf(roomId);
    const subscriber = new LiveMessages(feed, userId);
    await this.attach(feed, subscriber);
    subscriber.startAt(afterSeq);
    return subscriber;
  }

  /** The room's other events (edits, members, typing, receipts) for `userId`, from now on. */
  async listen(roomId: string, userId: string): Promise<RoomActivityStream> {
    const feed = this.feedOf(roomId);
    const subscriber = new RoomActivityStream(feed, userId);
    await this.attach(feed, subscriber);
    return subscriber;
  }

  private feedOf(roomId: string): RoomFeed {
    let feed = this.feeds.get(roomId);
    if (!feed) {
      feed = new RoomFeed(roomId, this, this.options.bus);
      this.feeds.set(roomId, feed);
    }
    return feed;
  }

  private async attach(feed: RoomFeed, subscriber: FeedSubscriber): Promise<void> {
    feed.attach(subscriber);
    try {
      await feed.ready;
    } catch (error) {
      subscriber.end();
      throw error;
    }
  }

  /** Ends the user's subscriptions to the room on this instance. */
  memberLeft(roomId: string, userId: string): void {
    this.feeds.get(roomId)?.endUser(userId);
  }

  /** Called by a feed whose last subscriber went away. */
  release(feed: RoomFeed): void {
    if (this.feeds.get(feed.roomId) === feed) this.feeds.delete(feed.roomId);
    void feed.dispose();
  }

  /** Catches up feeds that fell behind the database and drops viewers who are no longer members. */
  async poll(): Promise<void> {
    if (this.polling || this.feeds.size === 0) return;
    this.polling = true;
    try {
      const feeds = [...this.feeds.values()].filter((feed) => feed.isReady);
      const roomIds = feeds.map((feed) => feed.roomId);
      const heads = await this.source.heads(roomIds);
      const byId = new Map(heads.map((h) => [h.id, h.lastSeq]));
      for (const feed of feeds) {
        const lastSeq = byId.get(feed.roomId);
        if (lastSeq !== undefined && lastSeq > feed.head) feed.fill();
      }
      const userIds = [...new Set(feeds.flatMap((feed) => feed.userIds()))];
      const existing = await this.source.existingMemberships(roomIds, userIds);
      const members = new Set(existing.map((m) => `${m.roomId}/${m.userId}`));
      for (const feed of feeds) {
        for (const userId of feed.userIds()) if (!members.has(`${feed.roomId}/${userId}`)) feed.endUser(userId);
      }
    } catch (error) {
      this.logger.warn('live feed poll failed; retrying on the next tick', { error: error as Error });
    } finally {
      this.polling = false;
    }
  }
}

class RoomFeed {
  /** The seq of the newest message emitted to subscribers; every smaller one was emitted before it. */
  head = 0;
  isReady = false;
  readonly ready: Promise<void>;
  private readonly subscribers = new Set<FeedSubscriber>();
  /** Arrived ahead of a missing predecessor. */
  private readonly early = new Map<number, MessageRow>();
  private busSubscription: Promise<number> | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private fillAgain = false;
  private disposed = false;

  constructor(
    readonly roomId: string,
    readonly feeds: RoomFeeds,
    private readonly bus: EventBus,
  ) {
    this.ready = this.init();
    // A feed that failed to start is dropped; its subscribers see the error.
    this.ready.catch(() => this.feeds.release(this));
  }

  private async init(): Promise<void> {
    // Subscribe before reading the head: nothing committed after the read can be missed.
    this.busSubscription = this.bus.subscribe(topics.room(this.roomId), (event) => this.onEvent(event));
    await this.busSubscription;
    const [head] = await this.feeds.source.heads([this.roomId]);
    this.head = head?.lastSeq ?? 0;
    for (const seq of [...this.early.keys()]) if (seq <= this.head) this.early.delete(seq);
    this.isReady = true;
    this.drain();
  }

  attach(subscriber: FeedSubscriber): void {
    this.subscribers.add(subscriber);
  }

  detach(subscriber: FeedSubscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.feeds.release(this);
  }

  userIds(): string[] {
    return [...new Set([...this.subscribers].map((s) => s.userId))];
  }

  endUser(userId: string): void {
    for (const subscriber of [...this.subscribers]) if (subscriber.userId === userId) subscriber.end();
  }

  private onEvent(event: RoomEvent): void {
    if (event.type === 'message') {
      this.accept(event.message);
      if (this.isReady) this.drain();
      return;
    }
    // The leaver's streams end first: they get none of the room's events from here on.
    if (event.type === 'member' && event.change === 'LEFT') this.endUser(event.userId);
    for (const subscriber of this.subscribers) subscriber.notify(event);
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
      for (const subscriber of this.subscribers) subscriber.offer(next);
      next = this.early.get(this.head + 1);
    }
    if (this.early.size > 0 && !this.gapTimer && !this.disposed) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        if (this.early.size > 0) this.fill();
      }, this.feeds.gapGraceMs);
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
    void (async () => {
      try {
        do {
          this.fillAgain = false;
          let rows: MessageRow[];
          do {
            rows = await this.feeds.source.after(this.roomId, this.head, this.feeds.pageSize);
            for (const row of rows) this.accept(row);
            this.drain();
          } while (rows.length === this.feeds.pageSize && !this.disposed);
        } while (this.fillAgain && !this.disposed);
      } catch (error) {
        // The next poll (or the next message) tries again.
        this.feeds.logger.warn('live feed could not read missed messages', { roomId: this.roomId, error: error as Error });
      } finally {
        this.filling = false;
      }
    })();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    for (const subscriber of [...this.subscribers]) subscriber.end();
    try {
      const id = await this.busSubscription;
      if (id !== undefined && id !== null) this.bus.unsubscribe(id);
    } catch {
      // Never subscribed: nothing to undo.
    }
  }
}

/**
 * One subscriber's ordered stream. Registered with its feed before anything
 * is read, so no live message can slip between replay and live delivery:
 * while replaying, live messages wait in `held`; afterwards those the replay
 * already delivered are skipped by seq. Replay is lazy, a page per pull, so
 * a long backlog never sits in memory.
 */
export class LiveMessages extends AsyncQueue<MessageRow> implements FeedSubscriber {
  private delivered = 0;
  private started = false;
  private replaying = false;
  private readonly held: MessageRow[] = [];

  constructor(
    private readonly feed: RoomFeed,
    readonly userId: string,
  ) {
    super(() => feed.detach(this));
  }

  /** afterSeq null: from the feed's head (live only); otherwise replay what follows afterSeq. */
  startAt(afterSeq: number | null): void {
    this.started = true;
    this.delivered = afterSeq ?? this.feed.head;
    this.replaying = afterSeq !== null && afterSeq < this.feed.head;
  }

  notify(): void {}

  /** Called by the feed, in seq order without gaps. */
  offer(message: MessageRow): void {
    if (this.done || !this.started) return;
    if (this.replaying) {
      this.held.push(message);
      return;
    }
    if (message.seq > this.delivered) this.deliver(message);
  }

  private deliver(message: MessageRow): void {
    this.delivered = message.seq;
    this.push(message);
  }

  override async next(): Promise<IteratorResult<MessageRow>> {
    if (this.replaying && this.isEmpty && !this.done) {
      await this.replayPage();
      return this.next();
    }
    return super.next();
  }

  /** One page of replay; when the database has nothing more, the held live messages follow. */
  private async replayPage(): Promise<void> {
    const { source, pageSize } = this.feed.feeds;
    const rows = await source.after(this.feed.roomId, this.delivered, pageSize);
    if (this.done) return;
    for (const row of rows) if (row.seq > this.delivered) this.deliver(row);
    if (rows.length < pageSize) {
      this.replaying = false;
      for (const message of this.held.splice(0)) if (message.seq > this.delivered) this.deliver(message);
    }
  }

  /** Stops delivery: a pending next() resolves as done, so the client gets `complete`. */
  override end(): void {
    this.held.length = 0;
    super.end();
  }
}

/** A room's events other than new messages, for one viewer. */
export class RoomActivityStream extends AsyncQueue<RoomActivity> implements FeedSubscriber {
  constructor(
    feed: RoomFeed,
    readonly userId: string,
  ) {
    super(() => feed.detach(this));
  }

  offer(): void {}

  notify(event: RoomActivity): void {
    this.push(event);
  }
}

import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventBus } from './bus.js';
import { RoomFeed, type FeedSource } from './feed.js';
import type { Hooks } from './hooks.js';
import type { ActivitySubscriber, MessageSubscriber } from './subscriber.js';

export interface RoomHubOptions {
  bus: EventBus;
  source: FeedSource;
  hooks: Hooks;
  logger: Logger;
  /** Deliveries, their latency and gaps filled, counted by the feeds. */
  metrics?: Metrics;
  /** How often every feed compares its position (and its viewers' memberships) with the database (ms). */
  pollMs: number;
  /**
   * How long an out-of-order message waits for its predecessor over pub/sub before the database is asked (ms).
   * @default 25
   */
  gapGraceMs?: number;
  /**
   * Rows per database read when replaying or filling.
   * @default 200
   */
  pageSize?: number;
  /**
   * Rooms (for heads) or (room, user) pairs (for memberships) per poll query, so a poll
   * never grows one statement with the number of subscribers.
   * @default 5000
   */
  pollChunk?: number;
}

/**
 * This instance's room feeds, by room: one feed per room with subscribers
 * here (so one bus subscription per room, not per socket), for
 * `messageAdded`, `roomEvents` and the rooms of `myEvents`.
 *
 * Every pollMs, and whenever the Redis subscriber reconnects, feeds compare
 * their head with rooms.last_seq, so a message whose announcement was lost
 * (Redis down, a publish that failed) is still delivered.
 *
 * Membership is checked when a subscriber registers (by the service that opens
 * it), on each member LEFT event (feed.ts), when a member leaves through this
 * instance (the `memberLeft` hook: the leaver's subscriptions end before
 * anything else is delivered), and again on each poll, so a member who
 * leaves stops receiving at once.
 */
export class RoomHub {
  private readonly feeds = new Map<string, RoomFeed>();
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly gapGraceMs: number;
  private readonly pageSize: number;
  private readonly pollChunk: number;

  constructor(private readonly options: RoomHubOptions) {
    this.gapGraceMs = options.gapGraceMs ?? 25;
    this.pageSize = options.pageSize ?? 200;
    this.pollChunk = options.pollChunk ?? 5000;
    options.hooks.on('memberLeft', ({ roomId, userId }) => this.feeds.get(roomId)?.endUser(userId));
  }

  start(): void {
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs);
    this.pollTimer.unref();
    this.options.bus.onResubscribed(() => void this.poll());
  }

  /** Ends every subscriber (their clients see `complete`) and drops the feeds. */
  async stop(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.allSettled(feeds.map((feed) => feed.dispose()));
  }

  /**
   * The room's messages for `userId`, registered now. With `afterSeq`, the
   * messages after it come first, read from the database. Without, delivery
   * starts after the newest message committed now.
   */
  async messages(roomId: string, userId: string, afterSeq: number | null): Promise<MessageSubscriber> {
    const feed = this.feedOf(roomId);
    const subscriber = feed.addMessageSubscriber(userId);
    await this.whenReady(feed, subscriber);
    subscriber.start(afterSeq);
    return subscriber;
  }

  /** The room's other events (edits, members, typing, receipts) for `userId`, registered now. */
  async activity(roomId: string, userId: string): Promise<ActivitySubscriber> {
    const feed = this.feedOf(roomId);
    const subscriber = feed.addActivitySubscriber(userId);
    await this.whenReady(feed, subscriber);
    return subscriber;
  }

  private feedOf(roomId: string): RoomFeed {
    let feed = this.feeds.get(roomId);
    if (!feed) {
      feed = new RoomFeed({
        roomId,
        bus: this.options.bus,
        source: this.options.source,
        logger: this.options.logger,
        metrics: this.options.metrics,
        gapGraceMs: this.gapGraceMs,
        pageSize: this.pageSize,
        release: (released) => this.release(released),
      });
      this.feeds.set(roomId, feed);
    }
    return feed;
  }

  private async whenReady(feed: RoomFeed, subscriber: { end(): void }): Promise<void> {
    try {
      await feed.ready;
    } catch (error) {
      subscriber.end();
      throw error;
    }
  }

  private release(feed: RoomFeed): void {
    if (this.feeds.get(feed.roomId) === feed) this.feeds.delete(feed.roomId);
    void feed.dispose();
  }

  /**
   * Catches up feeds that fell behind the database and ends the subscribers of
   * viewers who are no longer members. Queries go in chunks of pollChunk
   * rooms or (room, user) pairs: each subscriber's own membership is checked,
   * not every room against every user, and no statement outgrows the
   * driver's parameter limit however many rooms are live.
   */
  async poll(): Promise<void> {
    if (this.polling || this.feeds.size === 0) return;
    this.polling = true;
    const { source, logger } = this.options;
    try {
      const feeds = [...this.feeds.values()].filter((feed) => feed.isReady);
      for (const chunk of chunks(feeds, this.pollChunk)) {
        const heads = new Map((await source.heads(chunk.map((feed) => feed.roomId))).map((h) => [h.id, h.lastSeq]));
        for (const feed of chunk) {
          const lastSeq = heads.get(feed.roomId);
          if (lastSeq !== undefined && lastSeq > feed.head) feed.fill();
        }
      }
      const pairs = feeds.flatMap((feed) => feed.userIds().map((userId) => ({ roomId: feed.roomId, userId })));
      const byRoom = new Map(feeds.map((feed) => [feed.roomId, feed]));
      for (const chunk of chunks(pairs, this.pollChunk)) {
        for (const { roomId, userId } of await source.notMembers(chunk)) byRoom.get(roomId)?.endUser(userId);
      }
    } catch (error) {
      logger.warn('live feed poll failed; retrying on the next tick', { error: error as Error });
    } finally {
      this.polling = false;
    }
  }
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

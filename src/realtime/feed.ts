import type { MessageRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventBus } from './bus.js';
import { FanoutGroup, type Renderer } from './fanout.js';
import { ActivityMember, MessageMember, type Member, type MemberFeed, type MessageFeed } from './members.js';
import { topics, type RoomEvent } from './topics.js';

/** Every room event but new messages (those go through the seq-ordered path). */
export type RoomActivity = Exclude<RoomEvent, { type: 'message' }>;

/** What feeds read from the database: the record that pub/sub only speeds up. */
export interface FeedSource {
  /** Messages with seq > afterSeq, oldest first. */
  after(roomId: string, afterSeq: number, limit: number): Promise<MessageRow[]>;
  /** Each room's newest committed seq. */
  heads(roomIds: readonly string[]): Promise<Array<{ id: string; lastSeq: number }>>;
  /** Which of these (room, user) pairs are not memberships now. */
  notMembers(pairs: ReadonlyArray<{ roomId: string; userId: string }>): Promise<Array<{ roomId: string; userId: string }>>;
}

export interface RoomFeedOptions {
  roomId: string;
  bus: EventBus;
  source: Pick<FeedSource, 'after' | 'heads'>;
  logger: Logger;
  metrics?: Metrics;
  /** How long an out-of-order message waits for its predecessor over pub/sub before the database is asked (ms). */
  gapGraceMs: number;
  /** Rows per database read when filling a gap or catching a member up. */
  pageSize: number;
  /** Called when the feed has no subscriber left, or could not start: whoever keeps it lets go of it. */
  release(feed: RoomFeed): void;
}

/**
 * One room's live events on this instance, from one pub/sub subscription.
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
 * Members (members.ts) are grouped by what they render (fanout.ts): each
 * emitted event is rendered once per group, not once per member.
 */
export class RoomFeed {
  readonly roomId: string;
  /** The seq of the newest message emitted to subscribers; every smaller one was emitted before it. */
  head = 0;
  isReady = false;
  /** Resolves once the feed is subscribed and knows its head; rejects when it could not start. */
  readonly ready: Promise<void>;
  private readonly messageSide: MessageSide;
  private readonly activitySide: FeedSide<RoomActivity>;
  /** Arrived ahead of a missing predecessor. */
  private readonly early = new Map<number, MessageRow>();
  private busSubscription: Promise<number> | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private fillAgain = false;
  private disposed = false;

  constructor(private readonly options: RoomFeedOptions) {
    this.roomId = options.roomId;
    this.messageSide = new MessageSide(this, options, () => this.memberLeft());
    this.activitySide = new FeedSide<RoomActivity>(options, () => this.memberLeft(), null);
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

  /** A member of the room's messages, registered now; it is given its position once the feed is ready. */
  addMessageMember(userId: string): MessageMember {
    const member = new MessageMember({ userId }, this.messageSide);
    this.messageSide.members.add(member);
    return member;
  }

  addActivityMember(userId: string): ActivityMember {
    const member = new ActivityMember({ userId }, this.activitySide);
    this.activitySide.members.add(member);
    return member;
  }

  /** Released once neither kind of member is left. */
  private memberLeft(): void {
    if (this.messageSide.members.size === 0 && this.activitySide.members.size === 0) this.options.release(this);
  }

  private members(): Array<Member<MessageRow, unknown> | Member<RoomActivity, unknown>> {
    return [...this.messageSide.members, ...this.activitySide.members];
  }

  userIds(): string[] {
    return [...new Set(this.members().map((m) => m.userId))];
  }

  /** Ends the user's streams of this room. */
  endUser(userId: string): void {
    for (const member of this.members()) if (member.userId === userId) member.end();
  }

  private onEvent(event: RoomEvent): void {
    if (event.type === 'message') {
      this.accept(event.message);
      if (this.isReady) this.drain();
      return;
    }
    // The leaver's streams end first: they get none of the room's events from here on.
    if (event.type === 'member' && event.change === 'LEFT') this.endUser(event.userId);
    for (const group of this.activitySide.groups.values()) group.offer(event);
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
      for (const group of this.messageSide.groups.values()) group.offer(next);
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

  /** Ends every member of the room and its pub/sub subscription. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    for (const member of this.members()) member.end();
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

/** One kind of a feed's members and their groups: what its members reach of it (one object per feed, not per member). */
class FeedSide<E> implements MemberFeed<E> {
  readonly members = new Set<Member<E, unknown>>();
  readonly groups = new Map<string, FanoutGroup<E, unknown>>();

  constructor(
    private readonly deps: Pick<RoomFeedOptions, 'logger' | 'metrics'>,
    private readonly onRemoved: () => void,
    /** When the event was sent (ms), for the send→deliver latency; null: not timed. */
    private readonly sentAt: ((event: E) => number) | null,
  ) {}

  group<Out>(key: string, renderer: Renderer<E, Out>): FanoutGroup<E, Out> {
    let group = this.groups.get(key) as FanoutGroup<E, Out> | undefined;
    if (!group) {
      const { logger, metrics } = this.deps;
      group = new FanoutGroup<E, Out>({ key, renderer, logger, metrics, sentAt: this.sentAt });
      this.groups.set(key, group);
    }
    return group;
  }

  remove(member: Member<E, unknown>): void {
    this.members.delete(member);
    for (const [key, group] of this.groups) if (group.members.size === 0) this.groups.delete(key);
    this.onRemoved();
  }
}

/** The message side also tells its members the feed's head and reads what they missed. */
class MessageSide extends FeedSide<MessageRow> implements MessageFeed {
  readonly pageSize: number;

  constructor(
    private readonly feed: RoomFeed,
    private readonly options: RoomFeedOptions,
    onRemoved: () => void,
  ) {
    super(options, onRemoved, (message) => message.createdAt.getTime());
    this.pageSize = options.pageSize;
  }

  get head(): number {
    return this.feed.head;
  }

  replay(afterSeq: number): Promise<MessageRow[]> {
    return this.options.source.after(this.feed.roomId, afterSeq, this.pageSize);
  }
}

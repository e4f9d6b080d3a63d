import type { MessageRow } from '../db/schema.js';
import { AsyncQueue } from './async-queue.js';
import type { ActivitySubscriber, MessageSubscriber, RoomActivity } from './feed.js';

export interface LiveMessagesOptions {
  userId: string;
  /** Messages of the room after a seq, oldest first: the replay's source. */
  replay: (afterSeq: number, limit: number) => Promise<MessageRow[]>;
  /** Rows per replay read. */
  pageSize: number;
  /** Called once when the stream ends: its feed detaches it. */
  release: () => void;
}

/**
 * One subscriber's ordered stream of a room's messages. Registered with its
 * feed before anything is read, so no live message can slip between replay
 * and live delivery: while replaying, live messages wait in `held`;
 * afterwards those the replay already delivered are skipped by seq. Replay is
 * lazy, a page per pull, so a long backlog never sits in memory.
 */
export class LiveMessages extends AsyncQueue<MessageRow> implements MessageSubscriber {
  readonly userId: string;
  private delivered = 0;
  private started = false;
  private replaying = false;
  private readonly held: MessageRow[] = [];

  constructor(private readonly options: LiveMessagesOptions) {
    super(() => options.release());
    this.userId = options.userId;
  }

  /**
   * afterSeq null: live only, from `head` (the feed's position now);
   * otherwise everything after afterSeq, replayed up to the head, then live.
   */
  startAt(afterSeq: number | null, head: number): void {
    this.started = true;
    this.delivered = afterSeq ?? head;
    this.replaying = afterSeq !== null && afterSeq < head;
  }

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
    const { replay, pageSize } = this.options;
    const rows = await replay(this.delivered, pageSize);
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
export class RoomActivityStream extends AsyncQueue<RoomActivity> implements ActivitySubscriber {
  constructor(
    readonly userId: string,
    release: () => void,
  ) {
    super(release);
  }

  notify(event: RoomActivity): void {
    this.push(event);
  }
}

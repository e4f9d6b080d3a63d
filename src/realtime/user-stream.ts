import type { MessageRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { AsyncQueue } from './async-queue.js';
import type { EventBus } from './bus.js';
import type { RoomHub } from './hub.js';
import type { LiveMessages } from './streams.js';
import { topics, type UserEvent } from './topics.js';

/** What one user's stream carries: messages of any of their rooms, rooms added and removed. */
export type UserStreamEvent =
  { type: 'message'; message: MessageRow } | { type: 'room-added'; roomId: string } | { type: 'room-removed'; roomId: string };

export interface UserStreamOptions {
  userId: string;
  bus: EventBus;
  hub: RoomHub;
  logger: Logger;
}

/**
 * One user's events across rooms (myEvents): new messages from every room
 * they are a member of (one hub stream per room, seq-ordered per room), and
 * rooms added or removed from their user topic. The user topic is subscribed
 * before the rooms are listed, so a room joined meanwhile is not missed; a
 * room's messages start after the seq it had when the user was added, so
 * nothing sent after joining is missed either.
 */
export class UserStream extends AsyncQueue<UserStreamEvent> {
  private readonly taps = new Map<string, LiveMessages>();
  private busSubscription: number | null = null;
  private pending: UserEvent[] | null = [];

  constructor(private readonly options: UserStreamOptions) {
    super(() => this.close());
  }

  /** listRooms: the user's rooms and each one's newest seq, read after this stream subscribed. */
  async start(listRooms: () => Promise<Array<{ id: string; lastSeq: number }>>): Promise<void> {
    const { bus, userId } = this.options;
    this.busSubscription = await bus.subscribe(topics.user(userId), (event) => this.onUserEvent(event));
    try {
      for (const room of await listRooms()) await this.tap(room.id, room.lastSeq);
    } catch (error) {
      this.end();
      throw error;
    }
    const queued = this.pending ?? [];
    this.pending = null;
    for (const event of queued) this.onUserEvent(event);
  }

  private onUserEvent(event: UserEvent): void {
    if (this.done) return;
    if (this.pending) return void this.pending.push(event);
    if (event.type === 'room-added') {
      if (this.taps.has(event.roomId)) return;
      this.tap(event.roomId, event.afterSeq, true).catch((error: Error) =>
        this.options.logger.warn('myEvents could not follow a new room', { error }),
      );
    } else {
      this.taps.get(event.roomId)?.end();
      this.taps.delete(event.roomId);
      this.push({ type: 'room-removed', roomId: event.roomId });
    }
  }

  /** Follows a room's messages after afterSeq; `announce` sends room-added first, before any of them. */
  private async tap(roomId: string, afterSeq: number, announce = false): Promise<void> {
    const live = await this.options.hub.open(roomId, this.options.userId, afterSeq);
    if (this.done) return live.end();
    this.taps.set(roomId, live);
    if (announce) this.push({ type: 'room-added', roomId });
    void (async () => {
      for await (const message of live) this.push({ type: 'message', message });
      if (this.taps.get(roomId) === live) this.taps.delete(roomId);
    })();
  }

  private close(): void {
    for (const live of this.taps.values()) live.end();
    this.taps.clear();
    if (this.busSubscription !== null) this.options.bus.unsubscribe(this.busSubscription);
    this.busSubscription = null;
  }
}

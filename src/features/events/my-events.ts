import type { Logger } from '../../logger.js';
import { AsyncQueue } from '../../pubsub/async-queue.js';
import type { EventBus } from '../../pubsub/bus.js';
import { topics, type UserEvent } from '../../pubsub/topics.js';
import type { LiveMessages, RoomFeeds } from '../messages/room-feeds.js';
import type { UserEventPayload } from './events.types.js';

/**
 * One viewer's myEvents: NewMessage from every room they are a member of
 * (one room feed tap per room, seq-ordered per room), RoomAdded/RoomRemoved
 * from their user topic. The user topic is subscribed before the rooms are
 * listed, so a room joined meanwhile is not missed; a tap starts after the
 * seq the room had when the viewer was added, so nothing sent after joining
 * is missed either.
 */
export class MyEventsStream extends AsyncQueue<UserEventPayload> {
  private readonly taps = new Map<string, LiveMessages>();
  private busSubscription: number | null = null;
  private pending: UserEvent[] | null = [];

  constructor(
    private readonly userId: string,
    private readonly deps: { bus: EventBus; feeds: RoomFeeds; logger: Logger },
  ) {
    super(() => this.close());
  }

  /** rooms: the viewer's rooms and each one's newest seq, read after this stream subscribed. */
  async start(listRooms: () => Promise<Array<{ id: string; lastSeq: number }>>): Promise<void> {
    this.busSubscription = await this.deps.bus.subscribe(topics.user(this.userId), (event) => this.onUserEvent(event));
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
        this.deps.logger.warn('myEvents could not follow a new room', { error }),
      );
    } else {
      this.taps.get(event.roomId)?.end();
      this.taps.delete(event.roomId);
      this.push({ __typename: 'RoomRemoved', roomId: event.roomId });
    }
  }

  /** Follows a room's messages after afterSeq; `announce` sends RoomAdded first, before any of them. */
  private async tap(roomId: string, afterSeq: number, announce = false): Promise<void> {
    const live = await this.deps.feeds.open(roomId, this.userId, afterSeq);
    if (this.done) return live.end();
    this.taps.set(roomId, live);
    if (announce) this.push({ __typename: 'RoomAdded', roomId });
    void (async () => {
      for await (const message of live) this.push({ __typename: 'NewMessage', message });
      if (this.taps.get(roomId) === live) this.taps.delete(roomId);
    })();
  }

  private close(): void {
    for (const live of this.taps.values()) live.end();
    this.taps.clear();
    if (this.busSubscription !== null) this.deps.bus.unsubscribe(this.busSubscription);
    this.busSubscription = null;
  }
}

import type { MessageRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import type { Renderer } from './group.js';
import type { RoomHub } from './hub.js';
import { LiveSource, type EndReason, type Sink } from './live-source.js';
import type { MessageSubscriber } from './subscriber.js';
import { topics, type RemovedReason, type UserEvent } from './topics.js';

/** What one user's stream carries: messages of any of their rooms, rooms added and removed. */
export type UserStreamEvent =
  | { type: 'message'; message: MessageRow }
  | { type: 'room-added'; roomId: string }
  | { type: 'room-removed'; roomId: string; reason: RemovedReason }
  | { type: 'thread-reply'; message: MessageRow }
  | { type: 'mentioned'; message: MessageRow };

export interface UserStreamOptions {
  userId: string;
  bus: EventBus;
  hub: RoomHub;
  logger: Logger;
}

/**
 * One user's events across rooms (myEvents): new messages from every room
 * they are a member of, thread replies and mentions addressed to them (only
 * for rooms they are still a member of when the event arrives) (a subscriber in each room's feed, so messages are
 * rendered once per room for everyone with the same selection), and rooms
 * added or removed from their user topic. The user topic is subscribed
 * before the rooms are listed, so a room joined meanwhile is not missed; a
 * room's messages start after the seq it had when the user was added, so
 * nothing sent after joining is missed either. Room-added is delivered
 * before any message of that room.
 */
export class UserStream extends LiveSource<UserStreamEvent> {
  private readonly rooms = new Map<string, MessageSubscriber>();
  private busSubscription: number | null = null;
  /** User events that came before the stream was bound (at most a few, during setup). */
  private pending: UserEvent[] = [];
  private sink: Sink<unknown> | null = null;
  private renderer: Renderer<UserStreamEvent, unknown> | null = null;
  private ended = false;
  /** Keeps a room's announcement, its messages and later room events in order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: UserStreamOptions) {
    super();
  }

  /** listRooms: the user's rooms and each one's newest seq, read after this stream subscribed. */
  async start(listRooms: () => Promise<Array<{ id: string; lastSeq: number }>>): Promise<void> {
    const { bus, userId } = this.options;
    this.busSubscription = await bus.subscribe(topics.user(userId), (event) => this.onUserEvent(event));
    try {
      for (const room of await listRooms()) await this.follow(room.id, room.lastSeq);
    } catch (error) {
      this.end();
      throw error;
    }
  }

  bind<Out>(sink: Sink<Out>, renderer: Renderer<UserStreamEvent, Out>): void {
    if (this.ended) return sink.end('complete');
    this.sink = sink;
    this.renderer = renderer;
    for (const [roomId, room] of this.rooms) this.bindRoom(roomId, room);
    for (const event of this.pending.splice(0)) this.onUserEvent(event);
  }

  private onUserEvent(event: UserEvent): void {
    if (this.ended) return;
    if (!this.sink) return void this.pending.push(event);
    const { logger } = this.options;
    this.chain = this.chain.then(async () => {
      if (this.ended) return;
      if (event.type === 'thread-reply' || event.type === 'mentioned') {
        // Checked as it is delivered: only for a room the user is (still) a member of, as this stream knows.
        if (this.rooms.has(event.message.roomId)) await this.emit(event);
      } else if (event.type === 'room-added') {
        if (this.rooms.has(event.roomId)) return;
        await this.emit({ type: 'room-added', roomId: event.roomId });
        await this.follow(event.roomId, event.afterSeq);
      } else {
        this.rooms.get(event.roomId)?.end();
        this.rooms.delete(event.roomId);
        await this.emit({ type: 'room-removed', roomId: event.roomId, reason: event.reason });
      }
    });
    this.chain = this.chain.catch((error: Error) => logger.warn('myEvents could not follow a room change', { error }));
  }

  /** Renders one of this user's own events for them alone and writes it. */
  private async emit(value: UserStreamEvent): Promise<void> {
    const { sink, renderer } = this;
    if (!sink || !renderer) return;
    const { out } = await renderer.render(value, { userId: this.options.userId });
    if (!this.ended) sink.write(out);
  }

  /** Follows a room's messages after afterSeq. */
  private async follow(roomId: string, afterSeq: number): Promise<void> {
    const room = await this.options.hub.messages(roomId, this.options.userId, afterSeq);
    if (this.ended) return room.end();
    this.rooms.set(roomId, room);
    if (this.sink) this.bindRoom(roomId, room);
  }

  private bindRoom(roomId: string, room: MessageSubscriber): void {
    room.bind(new RoomTap(this, this.sink!, roomId, room), new AsMessageEvent(this.renderer!));
  }

  /** A room's part ended: leaving ends that room's part only; anything else ends the whole stream. */
  roomEnded(roomId: string, room: MessageSubscriber, reason: EndReason): void {
    if (this.rooms.get(roomId) === room) this.rooms.delete(roomId);
    if (reason !== 'complete') this.end(reason);
  }

  end(reason: 'complete' | 'error' | 'overload' = 'complete'): void {
    if (this.ended) return;
    this.ended = true;
    const sink = this.sink;
    this.sink = null;
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    for (const room of rooms) room.end();
    if (this.busSubscription !== null) this.options.bus.unsubscribe(this.busSubscription);
    this.busSubscription = null;
    sink?.end(reason);
  }
}

/** One room's messages inside a user's stream: rendered as NewMessage-to-be, written to the user's sink. */
class RoomTap implements Sink<unknown> {
  readonly key: string;

  constructor(
    private readonly stream: UserStream,
    private readonly sink: Sink<unknown>,
    private readonly roomId: string,
    private readonly room: MessageSubscriber,
  ) {
    this.key = sink.key;
  }

  write(out: unknown): void {
    this.sink.write(out);
  }

  end(reason: EndReason): void {
    this.stream.roomEnded(this.roomId, this.room, reason);
  }
}

class AsMessageEvent implements Renderer<MessageRow, unknown> {
  constructor(private readonly inner: Renderer<UserStreamEvent, unknown>) {}

  render(message: MessageRow, viewer: { userId: string }) {
    return this.inner.render({ type: 'message', message }, viewer);
  }
}

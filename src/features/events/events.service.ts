import type { Viewer } from '../../auth/viewer.js';
import type { Logger } from '../../logger.js';
import type { EventBus } from '../../pubsub/bus.js';
import type { RoomActivity, RoomFeeds } from '../messages/room-feeds.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { RoomEventPayload } from './events.types.js';
import { MyEventsStream } from './my-events.js';

export class EventsService {
  constructor(private readonly deps: { rooms: RoomsService; feeds: RoomFeeds; bus: EventBus; logger: Logger }) {}

  /** A member's view of a room's events; registered before membership is checked so a leave in between still ends it. */
  async roomEvents(viewer: Viewer, roomId: string): Promise<AsyncIterableIterator<RoomEventPayload>> {
    const room = await this.deps.rooms.requireRoom(roomId);
    const stream = await this.deps.feeds.listen(room.id, viewer.userId);
    try {
      await this.deps.rooms.requireMembership(viewer, room.id);
    } catch (error) {
      stream.end();
      throw error;
    }
    return mapAsync(stream, (event) => toPayload(room.id, event));
  }

  async myEvents(viewer: Viewer): Promise<MyEventsStream> {
    const stream = new MyEventsStream(viewer.userId, this.deps);
    await stream.start(async () => (await this.deps.rooms.myRooms(viewer)).map((r) => ({ id: r.id, lastSeq: r.lastSeq })));
    return stream;
  }
}

function toPayload(roomId: string, event: RoomActivity): RoomEventPayload {
  switch (event.type) {
    case 'message-changed':
      return { __typename: 'MessageChanged', change: event.change, message: event.message };
    case 'member':
      return { __typename: 'MemberChanged', change: event.change, roomId, userId: event.userId };
    case 'typing':
      return { __typename: 'TypingChanged', roomId, userId: event.userId, typing: event.typing };
    case 'read':
      return { __typename: 'ReadReceipt', roomId, userId: event.userId, seq: event.seq };
  }
}

/** The same iterator, each value mapped; return() reaches the source. */
function mapAsync<T, U>(source: AsyncIterableIterator<T>, map: (value: T) => U): AsyncIterableIterator<U> {
  return {
    async next() {
      const result = await source.next();
      return result.done ? { value: undefined, done: true } : { value: map(result.value), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

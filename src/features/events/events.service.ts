import type { Viewer } from '../../auth/viewer.js';
import type { Realtime } from '../../realtime/index.js';
import type { LiveSource } from '../../realtime/live-source.js';
import type { RoomActivity } from '../../realtime/topics.js';
import type { UserStreamEvent } from '../../realtime/user-stream.js';
import { requireId } from '../../validation.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { RoomEventPayload, UserEventPayload } from './events.mappers.js';

export class EventsService {
  constructor(private readonly deps: { rooms: RoomsService; realtime: Pick<Realtime, 'hub' | 'openUserStream'> }) {}

  /** A member's view of a room's events; registered before membership is checked so a leave in between still ends it. */
  async roomEvents(viewer: Viewer, roomId: string): Promise<LiveSource<RoomEventPayload>> {
    const id = requireId(roomId, 'Room');
    const stream = await this.deps.realtime.hub.activity(id, viewer.userId);
    try {
      await this.deps.rooms.requireMembership(viewer, id);
    } catch (error) {
      stream.end();
      throw error;
    }
    return stream.map((event) => toRoomPayload(id, event));
  }

  /** New messages of every room of the viewer's, and rooms added and removed. */
  async myEvents(viewer: Viewer): Promise<LiveSource<UserEventPayload>> {
    const listRooms = async () => (await this.deps.rooms.myRooms(viewer)).map((r) => ({ id: r.id, lastSeq: r.lastSeq }));
    const stream = await this.deps.realtime.openUserStream(viewer.userId, listRooms);
    return stream.map(toUserPayload);
  }
}

function toRoomPayload(roomId: string, event: RoomActivity): RoomEventPayload {
  switch (event.type) {
    case 'message-changed':
      return { __typename: 'MessageChanged', change: event.change, message: event.message };
    case 'member':
      return { __typename: 'MemberChanged', change: event.change, roomId, userId: event.userId };
    case 'typing':
      return { __typename: 'TypingChanged', roomId, userId: event.userId, typing: event.typing };
    case 'read':
      return { __typename: 'ReadReceipt', roomId, userId: event.userId, seq: event.seq };
    case 'moderation':
      return { __typename: 'ModerationEvent', actionId: event.actionId };
    case 'report':
      return { __typename: 'ReportFiled', reportId: event.reportId };
  }
}

function toUserPayload(event: UserStreamEvent): UserEventPayload {
  switch (event.type) {
    case 'message':
      return { __typename: 'NewMessage', message: event.message };
    case 'room-added':
      return { __typename: 'RoomAdded', roomId: event.roomId };
    case 'room-removed':
      return { __typename: 'RoomRemoved', roomId: event.roomId, reason: event.reason };
    case 'thread-reply':
      return { __typename: 'ThreadReply', message: event.message };
    case 'mentioned':
      return { __typename: 'Mentioned', message: event.message };
  }
}

import type { MessageRow } from '../db/schema.js';

/**
 * A topic is a channel name plus the parser that checks what comes off it:
 * payloads cross Redis as JSON, so dates travel as strings and anything that
 * does not have the expected shape is dropped before it reaches a subscriber.
 */
export interface Topic<T> {
  readonly name: string;
  parse(raw: unknown): T | null;
}

export type MemberChange = 'JOINED' | 'LEFT' | 'ONLINE' | 'OFFLINE';
export type MessageChange = 'EDITED' | 'DELETED' | 'REACTIONS';

/** Everything that happens in a room, on one channel per room so order is kept. */
export type RoomEvent =
  | { type: 'message'; message: MessageRow }
  | { type: 'message-changed'; change: MessageChange; message: MessageRow }
  | { type: 'member'; change: MemberChange; userId: string }
  | { type: 'typing'; userId: string; typing: boolean }
  | { type: 'read'; userId: string; seq: number };

/** Every room event but new messages (those go through the seq-ordered path). */
export type RoomActivity = Exclude<RoomEvent, { type: 'message' }>;

/** What concerns one user across rooms (myEvents). */
export type UserEvent =
  /** afterSeq: the room's newest seq when the user was added; their NewMessage stream starts after it. */
  { type: 'room-added'; roomId: string; afterSeq: number } | { type: 'room-removed'; roomId: string };

export const topics = {
  room: (roomId: string): Topic<RoomEvent> => ({ name: `room:${roomId}`, parse: parseRoomEvent }),
  user: (userId: string): Topic<UserEvent> => ({ name: `user:${userId}`, parse: parseUserEvent }),
};

const MEMBER_CHANGES: readonly string[] = ['JOINED', 'LEFT', 'ONLINE', 'OFFLINE'];
const MESSAGE_CHANGES: readonly string[] = ['EDITED', 'DELETED', 'REACTIONS'];

const isString = (v: unknown): v is string => typeof v === 'string';
const isDateText = (v: unknown) => isString(v) && !Number.isNaN(Date.parse(v));
const optionalDate = (v: unknown) => (v === null || v === undefined ? null : isDateText(v) ? new Date(v as string) : undefined);

function parseRoomEvent(raw: unknown): RoomEvent | null {
  if (!raw || typeof raw !== 'object') return null;
  const event = raw as Record<string, unknown>;
  switch (event.type) {
    case 'message': {
      const message = parseMessage(event.message);
      return message && { type: 'message', message };
    }
    case 'message-changed': {
      const message = parseMessage(event.message);
      return message && isString(event.change) && MESSAGE_CHANGES.includes(event.change)
        ? { type: 'message-changed', change: event.change as MessageChange, message }
        : null;
    }
    case 'member':
      return isString(event.userId) && isString(event.change) && MEMBER_CHANGES.includes(event.change)
        ? { type: 'member', change: event.change as MemberChange, userId: event.userId }
        : null;
    case 'typing':
      return isString(event.userId) && typeof event.typing === 'boolean'
        ? { type: 'typing', userId: event.userId, typing: event.typing }
        : null;
    case 'read':
      return isString(event.userId) && Number.isInteger(event.seq) && (event.seq as number) >= 0
        ? { type: 'read', userId: event.userId, seq: event.seq as number }
        : null;
    default:
      return null;
  }
}

function parseUserEvent(raw: unknown): UserEvent | null {
  if (!raw || typeof raw !== 'object') return null;
  const event = raw as Record<string, unknown>;
  if (!isString(event.roomId)) return null;
  if (event.type === 'room-removed') return { type: 'room-removed', roomId: event.roomId };
  if (event.type === 'room-added' && Number.isInteger(event.afterSeq) && (event.afterSeq as number) >= 0) {
    return { type: 'room-added', roomId: event.roomId, afterSeq: event.afterSeq as number };
  }
  return null;
}

function parseMessage(raw: unknown): MessageRow | null {
  if (!raw || typeof raw !== 'object') return null;
  const m = raw as Record<string, unknown>;
  const editedAt = optionalDate(m.editedAt);
  const deletedAt = optionalDate(m.deletedAt);
  if (
    !isString(m.id) ||
    !isString(m.roomId) ||
    !Number.isInteger(m.seq) ||
    (m.seq as number) < 1 ||
    !isString(m.authorId) ||
    !isString(m.body) ||
    !(m.clientId === null || isString(m.clientId)) ||
    !(m.replyToId === null || isString(m.replyToId)) ||
    !isDateText(m.createdAt) ||
    editedAt === undefined ||
    deletedAt === undefined
  ) {
    return null;
  }
  return {
    id: m.id,
    roomId: m.roomId,
    seq: m.seq as number,
    authorId: m.authorId,
    body: m.body,
    clientId: m.clientId,
    replyToId: m.replyToId,
    createdAt: new Date(m.createdAt as string),
    editedAt,
    deletedAt,
  };
}

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

/** Everything a room's live feed needs to hear, on one channel per room so order is kept. */
export type RoomEvent =
  | { type: 'message'; message: MessageRow }
  | { type: 'member-left'; userId: string };

export const topics = {
  room: (roomId: string): Topic<RoomEvent> => ({ name: `room:${roomId}`, parse: parseRoomEvent }),
};

const isString = (v: unknown): v is string => typeof v === 'string';
const isDateText = (v: unknown) => isString(v) && !Number.isNaN(Date.parse(v));
const optionalDate = (v: unknown) => (v === null || v === undefined ? null : isDateText(v) ? new Date(v as string) : undefined);

function parseRoomEvent(raw: unknown): RoomEvent | null {
  if (!raw || typeof raw !== 'object') return null;
  const event = raw as Record<string, unknown>;
  if (event.type === 'member-left') return isString(event.userId) ? { type: 'member-left', userId: event.userId } : null;
  if (event.type !== 'message' || !event.message || typeof event.message !== 'object') return null;
  const m = event.message as Record<string, unknown>;
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
    type: 'message',
    message: {
      id: m.id,
      roomId: m.roomId,
      seq: m.seq as number,
      authorId: m.authorId,
      body: m.body,
      clientId: m.clientId as string | null,
      replyToId: m.replyToId as string | null,
      createdAt: new Date(m.createdAt as string),
      editedAt,
      deletedAt,
    },
  };
}

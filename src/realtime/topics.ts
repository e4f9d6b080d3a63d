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
export type MessageChange = 'EDITED' | 'DELETED' | 'REACTIONS' | 'THREAD' | 'PINNED' | 'UNPINNED' | 'THUMBNAIL';
/** Why a user left a room (RoomRemoved.reason). */
export type RemovedReason = 'LEFT' | 'KICKED' | 'BANNED';
/**
 * Who of a room's subscribers receives an event: every member, or only
 * MODERATOR and above, checked by each feed against the database when the
 * event reaches it (so a moderator demoted meanwhile gets none).
 */
export type Audience = 'members' | 'moderators';

/** Everything that happens in a room, on one channel per room so order is kept. */
export type RoomEvent =
  | { type: 'message'; message: MessageRow }
  | { type: 'message-changed'; change: MessageChange; message: MessageRow }
  | { type: 'member'; change: MemberChange; userId: string }
  | { type: 'typing'; userId: string; typing: boolean }
  | { type: 'read'; userId: string; seq: number }
  /** A moderation action of the room's log, by id. */
  | { type: 'moderation'; actionId: string; audience: Audience }
  /** A report filed on a message of the room, by id: for moderators only. */
  | { type: 'report'; reportId: string; audience: 'moderators' };

/** Every room event but new messages (those go through the seq-ordered path). */
export type RoomActivity = Exclude<RoomEvent, { type: 'message' }>;

/** What concerns one user across rooms (myEvents). */
export type UserEvent =
  /** afterSeq: the room's newest seq when the user was added; their NewMessage stream starts after it. */
  | { type: 'room-added'; roomId: string; afterSeq: number }
  | { type: 'room-removed'; roomId: string; reason: RemovedReason }
  /** A reply by someone else in a thread the user follows. */
  | { type: 'thread-reply'; message: MessageRow }
  /** A message that mentions the user (by id or @room). */
  | { type: 'mentioned'; message: MessageRow };

export const topics = {
  room: (roomId: string): Topic<RoomEvent> => ({ name: `room:${roomId}`, parse: parseRoomEvent }),
  user: (userId: string): Topic<UserEvent> => ({ name: `user:${userId}`, parse: parseUserEvent }),
};

const MEMBER_CHANGES: readonly string[] = ['JOINED', 'LEFT', 'ONLINE', 'OFFLINE'];
const MESSAGE_CHANGES: readonly string[] = ['EDITED', 'DELETED', 'REACTIONS', 'THREAD', 'PINNED', 'UNPINNED', 'THUMBNAIL'];
const REMOVED_REASONS: readonly string[] = ['LEFT', 'KICKED', 'BANNED'];
const AUDIENCES: readonly string[] = ['members', 'moderators'];

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
    case 'moderation':
      return isString(event.actionId) && isString(event.audience) && AUDIENCES.includes(event.audience)
        ? { type: 'moderation', actionId: event.actionId, audience: event.audience as Audience }
        : null;
    case 'report':
      return isString(event.reportId) && event.audience === 'moderators'
        ? { type: 'report', reportId: event.reportId, audience: 'moderators' }
        : null;
    default:
      return null;
  }
}

function parseUserEvent(raw: unknown): UserEvent | null {
  if (!raw || typeof raw !== 'object') return null;
  const event = raw as Record<string, unknown>;
  if (event.type === 'thread-reply' || event.type === 'mentioned') {
    const message = parseMessage(event.message);
    return message && (message.threadRootId !== null || event.type === 'mentioned') ? { type: event.type, message } : null;
  }
  if (!isString(event.roomId)) return null;
  if (event.type === 'room-removed') {
    // An announcement from an instance older than reasons is a plain leave.
    const reason = event.reason ?? 'LEFT';
    return isString(reason) && REMOVED_REASONS.includes(reason)
      ? { type: 'room-removed', roomId: event.roomId, reason: reason as RemovedReason }
      : null;
  }
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
    !(m.deletedBy === null || m.deletedBy === undefined || isString(m.deletedBy)) ||
    !isDateText(m.createdAt) ||
    editedAt === undefined ||
    deletedAt === undefined
  ) {
    return null;
  }
  // Fields of threads, mentions and pins; a message from an instance older than them has none.
  const threadRootId = m.threadRootId ?? null;
  const mentionIds = m.mentionIds ?? [];
  const pinnedAt = optionalDate(m.pinnedAt);
  const pinnedBy = m.pinnedBy ?? null;
  if (
    !(threadRootId === null || isString(threadRootId)) ||
    !(Array.isArray(mentionIds) && mentionIds.every(isString)) ||
    pinnedAt === undefined ||
    !(pinnedBy === null || isString(pinnedBy))
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
    deletedBy: m.deletedBy ?? null,
    threadRootId,
    showInRoom: m.showInRoom === true,
    mentionIds,
    mentionRoom: m.mentionRoom === true,
    pinnedAt,
    pinnedBy,
  };
}

import type { RoomFieldsFragment, UserFieldsFragment } from '../../client/index.js';
import { Members, Typists } from './presence.js';
import { Timeline, type Message } from './timeline.js';

/** The room on screen: its history, members and typists, and its live subscriptions. */
export interface OpenRoom {
  readonly id: string;
  readonly timeline: Timeline;
  members: Members;
  readonly typists: Typists;
  loadingOlder: boolean;
  error: string | null;
  /** Ends its subscriptions; empty while its history could not be read (so nothing is live yet). */
  readonly stop: Array<() => void>;
}

export function newOpenRoom(id: string, typists: Typists): OpenRoom {
  return { id, timeline: new Timeline(), members: new Members(), typists, loadingOlder: false, error: null, stop: [] };
}

const activity = (room: RoomFieldsFragment) => room.lastMessage?.createdAt ?? room.createdAt;

/** What the signed-in page knows: the user's rooms with their unread counts, the public rooms last found, the open room. */
export class ChatState {
  private rooms = new Map<string, RoomFieldsFragment>();
  publicRooms: RoomFieldsFragment[] = [];
  open: OpenRoom | null = null;

  constructor(readonly me: UserFieldsFragment) {}

  room(id: string): RoomFieldsFragment | undefined {
    return this.rooms.get(id);
  }

  /** The open room's entry in the list (absent until the list has it). */
  openEntry(): RoomFieldsFragment | undefined {
    return this.open ? this.rooms.get(this.open.id) : undefined;
  }

  roomIds(): Set<string> {
    return new Set(this.rooms.keys());
  }

  /** Most recent activity first. */
  sortedRooms(): RoomFieldsFragment[] {
    return [...this.rooms.values()].sort((a, b) => activity(b).localeCompare(activity(a)));
  }

  replaceRooms(list: readonly RoomFieldsFragment[]): void {
    this.rooms = new Map(list.map((room) => [room.id, room]));
  }

  setRoom(room: RoomFieldsFragment): void {
    this.rooms.set(room.id, room);
  }

  removeRoom(id: string): void {
    this.rooms.delete(id);
  }

  /** Fields the server answered for a room already listed (one left meanwhile stays out). */
  updateRoom(fields: Partial<RoomFieldsFragment> & { id: string }): void {
    const current = this.rooms.get(fields.id);
    if (current) this.rooms.set(fields.id, { ...current, ...fields });
  }

  /**
   * A new message in a listed room becomes its last one, and counts as unread
   * unless the user is reading the room, wrote it, or has read past it.
   */
  noteMessage(room: RoomFieldsFragment, message: Message, reading: boolean): void {
    const counts = !reading && message.author.id !== this.me.id && message.seq > (room.lastReadSeq ?? 0);
    this.rooms.set(room.id, { ...room, lastMessage: message, unreadCount: room.unreadCount + Number(counts) });
  }
}

export function unreadTotal(rooms: readonly RoomFieldsFragment[]): number {
  return rooms.reduce((sum, room) => sum + room.unreadCount, 0);
}

import type { RoomFieldsFragment, ThreadSummaryFieldsFragment, UserFieldsFragment } from '../../client/index.js';
import type { Restriction } from './moderation.js';
import { Members, Typists } from './presence.js';
import type { RoomNotifications } from './room-notifications.js';
import { Timeline, type Message } from './timeline.js';

export type ThreadSummary = ThreadSummaryFieldsFragment;

/** Whether a message belongs in the room's timeline: not a thread reply, or one sent to the room too. */
export const inTimeline = (message: Pick<Message, 'threadRootId' | 'showInRoom'>): boolean =>
  !message.threadRootId || message.showInRoom;

/** The thread open beside the room: its root, its replies, and the viewer's state in it. */
export interface OpenThread {
  readonly rootId: string;
  /** The root message, once held (from the room's timeline, or as it changes); null while it is further back. */
  root: Message | null;
  /** The thread's summary with the viewer's following and unread count, as last told; null before any. */
  summary: ThreadSummary | null;
  readonly replies: Timeline;
  loadingOlder: boolean;
  /** The first page of replies is on its way. */
  loading: boolean;
  error: string | null;
  /** The reply to bring into view once it is shown (a search result, a pin). */
  target: number | null;
  /** The seq of the newest reply marked read (markThreadRead), so each is marked once. */
  markedSeq: number;
}

export function newOpenThread(rootId: string, root: Message | null, target: number | null = null): OpenThread {
  return {
    rootId,
    root,
    summary: root?.thread ?? null,
    replies: new Timeline(),
    loadingOlder: false,
    loading: true,
    error: null,
    target,
    markedSeq: 0,
  };
}

/** What the open room's messages are showing besides themselves: the one being edited, a picker, a question. */
export interface MessageUi {
  /** The id of the message being edited in place. */
  editing: string | null;
  /** The id of the message whose deletion awaits a yes. */
  confirmingDelete: string | null;
  /** The id of the message whose emoji picker is open. */
  picker: string | null;
  /** The id of the message whose actions are shown (touch screens). */
  menu: string | null;
  /** The seq just jumped to (a reply's original, a search result), marked until the next jump. */
  highlighted: number | null;
  /** The id of the message whose report form is open. */
  reporting: string | null;
  /** Messages the viewer reported while the room is open (the server keeps one report per reporter and message). */
  reported: Set<string>;
}

/** The room on screen: its history, members and typists, and its live subscriptions. */
export interface OpenRoom {
  readonly id: string;
  readonly timeline: Timeline;
  members: Members;
  readonly typists: Typists;
  loadingOlder: boolean;
  error: string | null;
  /** The first seq that was unread when the room was opened (the "new messages" divider goes above it); null when none was. */
  readonly unreadFrom: number | null;
  /** The message the next send replies to. */
  replyTo: Message | null;
  readonly ui: MessageUi;
  /** The viewer's role here (null until known, or when not a member). */
  viewerRole: string | null;
  /** The room's settings (updateRoom): slow mode in seconds (0 off) and whether it is frozen. */
  settings: { slowModeSeconds: number; frozen: boolean };
  /** Why the viewer cannot post now (muted, slow mode, frozen…), shown above the box with the time left. */
  restriction: Restriction | null;
  /** The room's pinned messages, newest pin first. */
  pins: Message[];
  /** What notifies the viewer here while they are away (null until read). */
  notifications: RoomNotifications | null;
  /** The thread open beside the room, if any. */
  thread: OpenThread | null;
  /** Ends its subscriptions; empty while its history could not be read (so nothing is live yet). */
  readonly stop: Array<() => void>;
}

export function newOpenRoom(id: string, typists: Typists, unreadFrom: number | null): OpenRoom {
  return {
    id,
    timeline: new Timeline(),
    members: new Members(),
    typists,
    loadingOlder: false,
    error: null,
    unreadFrom,
    replyTo: null,
    ui: {
      editing: null,
      confirmingDelete: null,
      picker: null,
      highlighted: null,
      menu: null,
      reporting: null,
      reported: new Set(),
    },
    viewerRole: null,
    settings: { slowModeSeconds: 0, frozen: false },
    restriction: null,
    pins: [],
    notifications: null,
    thread: null,
    stop: [],
  };
}

const activity = (room: RoomFieldsFragment) => room.lastMessage?.createdAt ?? room.createdAt;

/** What the signed-in page knows: the user's rooms with their unread counts, the public rooms last found, the open room. */
export class ChatState {
  private rooms = new Map<string, RoomFieldsFragment>();
  /** The other person of each DIRECT room (its name in the list), once known. */
  private readonly peers = new Map<string, UserFieldsFragment>();
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

  setPeer(roomId: string, user: UserFieldsFragment): void {
    this.peers.set(roomId, user);
  }

  peer(roomId: string): UserFieldsFragment | undefined {
    return this.peers.get(roomId);
  }

  /** DIRECT rooms whose other person is not known yet. */
  directRoomsWithoutPeer(): string[] {
    return [...this.rooms.values()].filter((r) => r.kind === 'DIRECT' && !this.peers.has(r.id)).map((r) => r.id);
  }

  /** How a room is called on the page: its name, or for a DIRECT room the other person's username. */
  roomName(room: Pick<RoomFieldsFragment, 'id' | 'name' | 'kind'>): string {
    if (room.name) return room.name;
    return room.kind === 'DIRECT' ? (this.peers.get(room.id)?.username ?? 'Direct message') : 'Unnamed room';
  }

  /** The DIRECT room with this user, if the list has it. */
  directRoomWith(userId: string): RoomFieldsFragment | undefined {
    return [...this.rooms.values()].find((r) => r.kind === 'DIRECT' && this.peers.get(r.id)?.id === userId);
  }

  /**
   * A new message in a listed room becomes its last one, and counts as unread
   * unless it is a thread reply (those count in their thread), or the user
   * is reading the room, wrote it, or has read past it.
   */
  noteMessage(room: RoomFieldsFragment, message: Message, reading: boolean): void {
    const counts = inTimeline(message) && !reading && message.author.id !== this.me.id && message.seq > (room.lastReadSeq ?? 0);
    this.rooms.set(room.id, { ...room, lastMessage: message, unreadCount: room.unreadCount + Number(counts) });
  }

  /**
   * A timeline message that mentions the user (Mentioned) counts as an
   * unread mention unless the user is reading the room, wrote it, or has
   * read past it (an edit that mentions them in a message already read).
   */
  noteMention(room: RoomFieldsFragment, message: Message, reading: boolean): void {
    const counts = !reading && message.author.id !== this.me.id && message.seq > (room.lastReadSeq ?? 0);
    if (counts) this.rooms.set(room.id, { ...room, unreadMentionCount: room.unreadMentionCount + 1 });
  }

  /** Per room: the last ticket handed out for its counts, and the last one whose mention count was applied. */
  private readonly countAsks = new Map<string, { asked: number; applied: number }>();

  /**
   * A ticket for a request whose answer carries a room's counts (markRead,
   * markThreadRead, following a thread, reading the counts again). Answers
   * come back in any order: applyCounts takes the counts only when no answer
   * to a later request was applied before it, so a count read before a
   * mark never brings back what the mark cleared.
   */
  askCounts(roomId: string): number {
    const asks = this.countAsks.get(roomId) ?? { asked: 0, applied: 0 };
    asks.asked++;
    this.countAsks.set(roomId, asks);
    return asks.asked;
  }

  /** The counts an answer told, for a room still listed; its counts only when no later answer's were applied. */
  applyCounts(ticket: number, fields: Partial<RoomFieldsFragment> & { id: string }): void {
    const asks = this.countAsks.get(fields.id);
    const { unreadMentionCount, unreadCount, ...rest } = fields;
    const fresh = asks !== undefined && ticket >= asks.applied;
    if (fresh) asks.applied = ticket;
    this.updateRoom({
      ...rest,
      ...(fresh && unreadMentionCount !== undefined ? { unreadMentionCount } : {}),
      ...(fresh && unreadCount !== undefined ? { unreadCount } : {}),
    });
  }
}

export function unreadTotal(rooms: readonly RoomFieldsFragment[]): number {
  return rooms.reduce((sum, room) => sum + room.unreadCount, 0);
}

export function mentionTotal(rooms: readonly RoomFieldsFragment[]): number {
  return rooms.reduce((sum, room) => sum + room.unreadMentionCount, 0);
}

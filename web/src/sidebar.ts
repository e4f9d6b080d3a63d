import type { RoomFieldsFragment, RoomVisibility, UserFieldsFragment } from '../../client/index.js';
import { describe } from './api.js';
import type { ChatLayout } from './layout.js';
import type { RoomController } from './room-controller.js';
import type { RoomLink } from './room-link.js';
import { inTimeline, type ChatState } from './state.js';
import type { Message } from './timeline.js';
import type { ChatTransport, UserEvent } from './transport.js';

/**
 * How often the public room list is read again while the page is in view:
 * rooms others create reach no subscription of this user's.
 */
const PUBLIC_ROOMS_POLL_MS = 10_000;
/** Mentions in threads arriving together are counted again once, this long after the first. */
const COUNTS_SETTLE_MS = 300;

/**
 * The user's rooms and the public ones: loading them, creating, joining and
 * leaving rooms, direct rooms (named after the other person), and keeping
 * the list (last messages, unread and mention counts, rooms added or
 * removed) current from the myEvents subscription.
 */
export class Sidebar {
  private publicQuery = '';
  private poll: ReturnType<typeof setInterval> | null = null;
  /** Rooms whose counts are to be read again, with the timer that will. */
  private readonly recount = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly options: {
      state: ChatState;
      transport: ChatTransport;
      layout: ChatLayout;
      room: RoomController;
      /** The open room in the page's address. */
      link: RoomLink;
      /** Marks the open room read up to its newest message, once things settle. */
      markRead(): void;
    },
  ) {}

  /** Reads the user's rooms again; false when they could not be read. */
  async loadRooms(): Promise<boolean> {
    const { state, transport, layout } = this.options;
    const list = await transport.myRooms().catch(() => null);
    if (!list) return false;
    state.replaceRooms(list);
    // The open room is being read: it shows no unread count, even one the server counted while the page
    // could not tell it (messages that arrived during a reconnect), and it is marked read.
    const open = state.openEntry();
    if (open && open.unreadCount > 0 && document.visibilityState === 'visible') {
      state.setRoom({ ...open, unreadCount: 0 });
      this.options.markRead();
    }
    layout.renderRooms(state);
    layout.renderRoomHead(state);
    await this.loadPeers();
    return true;
  }

  /** The other person of each DIRECT room not named yet (two members: one query each, once). */
  private async loadPeers(): Promise<void> {
    const { state, transport, layout } = this.options;
    const missing = state.directRoomsWithoutPeer();
    if (missing.length === 0) return;
    await Promise.all(
      missing.map(async (roomId) => {
        const room = await transport.room(roomId).catch(() => null);
        const peer = room?.members.find((m) => m.user.id !== state.me.id);
        if (peer) state.setPeer(roomId, peer.user);
      }),
    );
    layout.renderRooms(state);
    layout.renderRoomHead(state);
  }

  async loadPublicRooms(query = this.publicQuery): Promise<void> {
    const { state, transport, layout } = this.options;
    this.publicQuery = query;
    const found = await transport.publicRooms(query).catch(() => null);
    if (!found) return;
    state.publicRooms = found;
    layout.renderRooms(state);
  }

  /** Keeps the public room list current while the page is in view. */
  startPolling(): void {
    this.poll ??= setInterval(() => {
      if (document.visibilityState === 'visible') void this.loadPublicRooms();
    }, PUBLIC_ROOMS_POLL_MS);
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    for (const timer of this.recount.values()) clearTimeout(timer);
    this.recount.clear();
  }

  async create(name: string, visibility: RoomVisibility): Promise<void> {
    if (!name) return;
    await this.enter(() => this.options.transport.createRoom(name, visibility));
    if (visibility === 'PUBLIC') void this.loadPublicRooms();
  }

  async join(roomId: string): Promise<void> {
    await this.enter(() => this.options.transport.joinRoom(roomId));
  }

  /** Opens the DIRECT room with this user (the server makes it on first use). */
  async openDirect(user: UserFieldsFragment): Promise<void> {
    const { state } = this.options;
    if (user.id === state.me.id) return;
    const known = state.directRoomWith(user.id);
    if (known) return void (await this.open(known.id));
    await this.enter(async () => {
      const room = await this.options.transport.openDirectRoom(user.id);
      state.setPeer(room.id, user);
      return room;
    });
  }

  async invite(user: UserFieldsFragment): Promise<void> {
    const { state, transport, layout, room } = this.options;
    const open = state.open;
    if (!open) return;
    layout.setRoomsNotice('');
    try {
      await transport.inviteToRoom(open.id, user.id);
      await room.refreshMembers();
      layout.showPanel('members');
    } catch (error) {
      open.error = describe(error);
      room.renderMessages();
    }
  }

  /** Leaves the open room; it goes from the list at once (RoomRemoved says so again). */
  async leave(): Promise<void> {
    const { state, transport, layout, room } = this.options;
    const open = state.open;
    if (!open) return;
    try {
      await transport.leaveRoom(open.id);
      this.removed(open.id);
      void this.loadPublicRooms();
    } catch (error) {
      // The OWNER leaves last: the server's FORBIDDEN says so in API terms, the page in the user's.
      const owner = open.viewerRole === 'OWNER' && (error as { code?: string }).code === 'FORBIDDEN';
      open.error = owner
        ? 'You own this room and others are still in it: hand the room over first (Members, then Moderate beside someone, then make them Owner), then leave.'
        : describe(error);
      room.renderMessages();
      layout.showPanel(null);
    }
  }

  async open(roomId: string, at: number | null = null): Promise<void> {
    this.options.layout.roomChosen();
    this.options.layout.hideSearch();
    this.options.link.show(roomId);
    await this.options.room.open(roomId, at);
  }

  /** Opens a message's room at the message (a search result): a thread's reply in its thread. */
  async openAt(message: Message): Promise<void> {
    if (inTimeline(message)) return this.open(message.roomId, message.seq);
    await this.open(message.roomId);
    if (this.options.state.open?.id === message.roomId)
      await this.options.room.threads.open(message.threadRootId!, null, message.seq);
  }

  /**
   * A message mentioned the user. In the timeline, it counts at once, as an
   * unread message does; in a thread, whether it counts depends on the
   * user's following and read position there, which the server knows: the
   * room's counts are read again (unless the user is reading that thread,
   * whose marking answers with them).
   */
  private mentioned(message: Message): void {
    const { state, layout, room } = this.options;
    const listed = state.room(message.roomId);
    if (!listed) return;
    if (inTimeline(message)) {
      const reading = state.open?.id === message.roomId && document.visibilityState === 'visible';
      state.noteMention(listed, message, reading);
      layout.renderRooms(state);
    } else if (!room.threads.reading(message.threadRootId)) {
      this.recountSoon(message.roomId);
    }
  }

  /** Reads a room's unread and mention counts again, once a burst of events has settled. */
  private recountSoon(roomId: string): void {
    if (this.recount.has(roomId)) return;
    this.recount.set(
      roomId,
      setTimeout(() => {
        this.recount.delete(roomId);
        const { state, transport, layout } = this.options;
        const ticket = state.askCounts(roomId);
        void transport
          .roomCounts(roomId)
          .then((counts) => {
            if (!counts) return;
            // The open room's unread count is the read marker's while it is being read.
            const reading = state.open?.id === roomId && document.visibilityState === 'visible';
            state.applyCounts(ticket, {
              id: counts.id,
              unreadMentionCount: counts.unreadMentionCount,
              ...(reading ? {} : { unreadCount: counts.unreadCount }),
            });
            layout.renderRooms(state);
          })
          .catch(() => {});
      }, COUNTS_SETTLE_MS),
    );
  }

  userEvent(event: UserEvent): void {
    const { state, layout } = this.options;
    switch (event.__typename) {
      case 'NewMessage': {
        const message = event.message;
        const room = state.room(message.roomId);
        if (!room) return void this.loadRooms();
        const reading = state.open?.id === message.roomId && document.visibilityState === 'visible';
        const before = room.unreadCount;
        state.noteMessage(room, message, reading);
        layout.renderRooms(state);
        // Counted here at once; the server's count follows once the burst settles. A count answered
        // while this message was on its way (a mark of the room left a moment ago) may hold it already.
        if (state.room(room.id)!.unreadCount !== before) this.recountSoon(room.id);
        break;
      }
      case 'Mentioned':
        this.mentioned(event.message);
        break;
      case 'ThreadReply': {
        const { root, participants: _participants, ...summary } = event.thread;
        this.options.room.threads.threadReply(root, summary, event.message.roomId);
        break;
      }
      case 'RoomAdded':
        state.setRoom(event.room);
        layout.renderRooms(state);
        void this.loadPeers();
        break;
      case 'RoomRemoved': {
        const listed = state.room(event.roomId);
        const name = listed ? `“${state.roomName(listed)}”` : 'a room';
        this.removed(event.roomId);
        if (event.reason === 'KICKED')
          layout.showRoomNotice(`A moderator removed you from ${name}. You may join it again if it is public.`);
        if (event.reason === 'BANNED') layout.showRoomNotice(`A moderator banned you from ${name}.`);
        break;
      }
    }
  }

  private removed(roomId: string): void {
    const { state, layout, room } = this.options;
    state.removeRoom(roomId);
    if (state.open?.id === roomId) {
      this.options.link.show(null);
      room.close();
      room.renderMessages();
      layout.renderRoomHead(state);
    }
    layout.renderRooms(state);
  }

  /** Adds the room the server answered with and opens it; a refusal shows in the rooms notice. */
  private async enter(request: () => Promise<RoomFieldsFragment>): Promise<void> {
    const { state, layout } = this.options;
    layout.setRoomsNotice('');
    try {
      const room = await request();
      state.setRoom(room);
      await this.open(room.id);
    } catch (error) {
      layout.setRoomsNotice(describe(error));
    }
  }
}

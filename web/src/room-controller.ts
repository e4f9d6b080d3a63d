import { classify, describe } from './api.js';
import type { ChatLayout } from './layout.js';
import type { MessageList } from './message-list.js';
import { Outbox } from './outbox.js';
import { Members, TypingSignal, Typists } from './presence.js';
import { newOpenRoom, type ChatState, type OpenRoom } from './state.js';
import type { Message } from './timeline.js';
import type { ChatTransport, RoomEvent } from './transport.js';

export interface RoomControllerOptions {
  state: ChatState;
  transport: ChatTransport;
  layout: ChatLayout;
  list: MessageList;
  /** The open room shows a newer message: mark it read once things settle. */
  markRead(): void;
}

/**
 * The open room: opening it (history, then live messages and room events from
 * the newest message held), older pages as the reader scrolls back, members
 * and typists, sending through the outbox, and closing it again.
 */
export class RoomController {
  readonly outbox: Outbox;
  private readonly typing: TypingSignal;

  constructor(private readonly options: RoomControllerOptions) {
    const { state, transport } = options;
    this.outbox = new Outbox({
      send: (input) => transport.sendMessage(input),
      classify,
      onChange: () => this.renderMessages(),
      onSent: (message) => this.receive(message),
    });
    this.typing = new TypingSignal({
      roomId: () => state.open?.id ?? null,
      setTyping: (roomId, typing) => transport.setTyping(roomId, typing),
    });
  }

  async open(roomId: string): Promise<void> {
    const { state, transport, layout } = this.options;
    if (state.open?.id === roomId) return;
    this.close();
    const room = newOpenRoom(roomId, new Typists(() => layout.renderTyping(state.open)));
    state.open = room;
    layout.renderRooms(state);
    layout.renderRoomHead(state);
    layout.renderTyping(state.open);
    try {
      const page = await transport.newestMessages(roomId);
      if (state.open !== room) return;
      room.timeline.addNewest(page);
      // Live from the newest message held: the server replays what came after it, so nothing falls between.
      const after = room.timeline.newest?.cursor ?? null;
      room.stop.push(
        transport.subscribeMessages(roomId, after, {
          onMessage: (message) => this.receive(message),
          onError: (text) => this.showError(room, text),
        }),
        transport.subscribeRoomEvents(roomId, (event) => this.roomEvent(room, event)),
      );
      await this.loadMembers(room);
    } catch (error) {
      this.showError(room, describe(error));
    }
    this.renderMessages();
    this.options.markRead();
    layout.focusComposer();
  }

  close(): void {
    const { state } = this.options;
    if (!state.open) return;
    for (const stop of state.open.stop) stop();
    state.open.typists.clear();
    // While the room is still open, so the stop goes to it.
    this.typing.stop();
    state.open = null;
  }

  /** The next older page, when the reader is at the top and there is one. */
  async loadOlder(): Promise<void> {
    const { state, transport, list } = this.options;
    const room = state.open;
    if (!room || room.loadingOlder || !room.timeline.hasOlder || list.awayFromTop) return;
    room.loadingOlder = true;
    try {
      const before = room.timeline.oldest?.cursor ?? null;
      room.timeline.addOlder(await transport.olderMessages(room.id, before));
    } catch (error) {
      room.error = describe(error);
    } finally {
      room.loadingOlder = false;
    }
    if (state.open === room) this.renderMessages();
  }

  /** A message of the open room, live or as a send's answer. */
  receive(message: Message): void {
    this.outbox.confirm(message);
    const open = this.options.state.open;
    if (open?.id !== message.roomId) return;
    if (open.timeline.add(message)) {
      this.renderMessages();
      this.options.markRead();
    }
  }

  typed(): void {
    this.typing.typed();
  }

  send(): void {
    const { state, layout, list } = this.options;
    const body = layout.draft;
    if (!state.open || body.trim() === '') return;
    this.typing.stop();
    this.outbox.enqueue(state.open.id, body);
    layout.clearDraft();
    list.scrollToBottom();
    this.renderMessages();
  }

  /** What roomEvents told while the socket was away is read again; messages resume by themselves. */
  async afterReconnect(): Promise<void> {
    const { state, layout } = this.options;
    const open = state.open;
    if (open && open.stop.length === 0) {
      // The room failed to open (its history could not be read): open it again now.
      this.close();
      await this.open(open.id);
    } else if (open) {
      open.typists.clear();
      open.error = null;
      layout.renderTyping(state.open);
      await this.loadMembers(open);
      this.renderMessages();
    }
  }

  renderMessages(): void {
    const open = this.options.state.open;
    this.options.list.render(open, open ? this.outbox.pending(open.id) : []);
  }

  private async loadMembers(room: OpenRoom): Promise<void> {
    const { state, transport, layout } = this.options;
    const details = await transport.room(room.id).catch(() => null);
    if (!details || state.open !== room) return;
    state.setRoom({ ...state.room(room.id), ...details });
    room.members = new Members(details.members);
    layout.renderRoomHead(state);
    layout.renderRooms(state);
  }

  private showError(room: OpenRoom, text: string): void {
    room.error = text;
    if (this.options.state.open === room) this.renderMessages();
  }

  private roomEvent(room: OpenRoom, event: RoomEvent): void {
    const { state, layout } = this.options;
    if (state.open !== room) return;
    switch (event.__typename) {
      case 'MessageChanged':
        if (room.timeline.update(event.message)) this.renderMessages();
        break;
      case 'MemberChanged':
        room.members.change(event.user, event.memberChange);
        layout.renderRoomHead(state);
        break;
      case 'TypingChanged':
        if (event.user.id === state.me.id) break;
        room.typists.set(event.user, event.typing);
        layout.renderTyping(state.open);
        break;
      case 'ReadReceipt':
        break;
    }
  }
}

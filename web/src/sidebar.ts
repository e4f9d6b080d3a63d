import type { RoomFieldsFragment } from '../../client/index.js';
import { describe } from './api.js';
import type { ChatLayout } from './layout.js';
import type { RoomController } from './room-controller.js';
import type { ChatState } from './state.js';
import type { ChatTransport, UserEvent } from './transport.js';

/**
 * The user's rooms and the public ones: loading them, creating and joining
 * rooms, and keeping the list (last messages, unread counts, rooms added or
 * removed) current from the myEvents subscription.
 */
export class Sidebar {
  constructor(
    private readonly options: {
      state: ChatState;
      transport: ChatTransport;
      layout: ChatLayout;
      room: RoomController;
    },
  ) {}

  async loadRooms(): Promise<void> {
    const { state, transport, layout } = this.options;
    const list = await transport.myRooms().catch(() => null);
    if (!list) return;
    state.replaceRooms(list);
    layout.renderRooms(state);
    layout.renderRoomHead(state);
  }

  async loadPublicRooms(query = ''): Promise<void> {
    const { state, transport, layout } = this.options;
    const found = await transport.publicRooms(query).catch(() => null);
    if (!found) return;
    state.publicRooms = found;
    layout.renderRooms(state);
  }

  async create(name: string): Promise<void> {
    if (!name) return;
    await this.enter(() => this.options.transport.createRoom(name));
  }

  async join(roomId: string): Promise<void> {
    await this.enter(() => this.options.transport.joinRoom(roomId));
  }

  userEvent(event: UserEvent): void {
    const { state, layout } = this.options;
    switch (event.__typename) {
      case 'NewMessage': {
        const message = event.message;
        const room = state.room(message.roomId);
        if (!room) return void this.loadRooms();
        const reading = state.open?.id === message.roomId && document.visibilityState === 'visible';
        state.noteMessage(room, message, reading);
        layout.renderRooms(state);
        break;
      }
      case 'RoomAdded':
        state.setRoom(event.room);
        layout.renderRooms(state);
        break;
      case 'RoomRemoved':
        state.removeRoom(event.roomId);
        if (state.open?.id === event.roomId) {
          this.options.room.close();
          this.options.room.renderMessages();
          layout.renderRoomHead(state);
        }
        layout.renderRooms(state);
        break;
    }
  }

  /** Adds the room the server answered with and opens it; a refusal shows in the rooms notice. */
  private async enter(request: () => Promise<RoomFieldsFragment>): Promise<void> {
    const { state, layout } = this.options;
    layout.setRoomsNotice('');
    try {
      const room = await request();
      state.setRoom(room);
      await this.options.room.open(room.id);
    } catch (error) {
      layout.setRoomsNotice(describe(error));
    }
  }
}

import type { UserFieldsFragment } from '../../client/index.js';
import { h } from './dom.js';
import type { MessageList } from './message-list.js';
import { unreadTotal, type ChatState, type OpenRoom } from './state.js';
import { fieldForm, headerView, membersView, publicRoomItems, roomItems, typingView, type ConnectionStatus } from './views.js';

export interface LayoutHandlers {
  onSignOut(): void;
  onOpenRoom(roomId: string): void;
  onJoinRoom(roomId: string): void;
  onCreateRoom(name: string): void;
  onFindRooms(query: string): void;
  /** A key in the composer. */
  onTyped(): void;
  onSend(): void;
}

/** The signed-in page's parts, built once; each render fills one of them from the state. */
export class ChatLayout {
  readonly element: HTMLElement;
  private readonly header = h('div');
  private readonly myRoomsList = h('ul', { 'data-testid': 'my-rooms' });
  private readonly publicList = h('ul', { 'data-testid': 'public-rooms' });
  // Filled on a failed create or join but never placed in the page: the client had it so before the split, and it stays so.
  private readonly roomsNotice = h('p', { class: 'notice error', role: 'alert', 'data-testid': 'rooms-notice' });
  private readonly roomTitle = h('h2', { 'data-testid': 'room-title' }, 'Pick or create a room');
  private readonly members = h('div');
  private readonly typing = h('div');
  private readonly composer: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;

  constructor(
    private readonly me: UserFieldsFragment,
    messages: MessageList,
    private readonly handlers: LayoutHandlers,
  ) {
    this.composer = h('textarea', {
      rows: 2,
      maxlength: 4000,
      placeholder: 'Write a message',
      'data-testid': 'composer',
      disabled: true,
      oninput: () => handlers.onTyped(),
      onkeydown: (event: Event) => {
        const key = event as KeyboardEvent;
        if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
          key.preventDefault();
          handlers.onSend();
        }
      },
    }) as HTMLTextAreaElement;
    this.sendButton = h(
      'button',
      { type: 'button', 'data-testid': 'send', disabled: true, onclick: () => handlers.onSend() },
      'Send',
    ) as HTMLButtonElement;
    this.element = h(
      'div',
      { class: 'chat' },
      this.header,
      h(
        'aside',
        { class: 'rooms' },
        h('h2', {}, 'Your rooms'),
        this.myRoomsList,
        fieldForm({
          placeholder: 'New room name',
          button: 'Create',
          testid: 'create-room',
          onSubmit: (name) => handlers.onCreateRoom(name),
        }),
        h('h2', {}, 'Public rooms'),
        fieldForm({
          placeholder: 'Find public rooms',
          button: 'Find',
          testid: 'find-rooms',
          type: 'search',
          onSubmit: (query) => handlers.onFindRooms(query),
        }),
        this.publicList,
      ),
      h(
        'main',
        { class: 'room-pane' },
        h('div', { class: 'room-head' }, this.roomTitle, this.members),
        messages.scroller,
        messages.notice,
        this.typing,
        h('div', { class: 'composer row' }, this.composer, this.sendButton),
      ),
    );
  }

  renderHeader(status: ConnectionStatus): void {
    this.header.replaceChildren(headerView(this.me, status, () => this.handlers.onSignOut()));
  }

  /** Both room lists, and the unread total in the tab's title. */
  renderRooms(state: ChatState): void {
    const sorted = state.sortedRooms();
    this.myRoomsList.replaceChildren(...roomItems(sorted, state.open?.id ?? null, (id) => this.handlers.onOpenRoom(id)));
    this.publicList.replaceChildren(...publicRoomItems(state.publicRooms, state.roomIds(), (id) => this.handlers.onJoinRoom(id)));
    const unread = unreadTotal(sorted);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
  }

  renderRoomHead(state: ChatState): void {
    const room = state.openEntry();
    this.roomTitle.textContent = room ? (room.name ?? 'Direct') : 'Pick or create a room';
    this.members.replaceChildren(state.open ? membersView(state.open.members.list()) : '');
    this.composer.disabled = this.sendButton.disabled = !state.open;
  }

  renderTyping(open: OpenRoom | null): void {
    this.typing.replaceChildren(typingView(open ? open.typists.names() : []));
  }

  /** Why creating or joining a room failed; empty clears it. */
  setRoomsNotice(text: string): void {
    this.roomsNotice.textContent = text;
  }

  get draft(): string {
    return this.composer.value;
  }

  clearDraft(): void {
    this.composer.value = '';
  }

  focusComposer(): void {
    this.composer.focus();
  }
}

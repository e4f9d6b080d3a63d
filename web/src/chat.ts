import { classify, describe } from './api.js';
import { ChatLayout } from './layout.js';
import { MessageList } from './message-list.js';
import { Outbox } from './outbox.js';
import { Members, TypingSignal, Typists } from './presence.js';
import type { Session } from './session.js';
import { ChatState, newOpenRoom, type OpenRoom } from './state.js';
import type { Message } from './timeline.js';
import { ChatTransport, type RoomEvent, type UserEvent } from './transport.js';

export interface ChatOptions {
  session: Session;
  /** A refreshed token (kept by the caller for the next page load). */
  onToken(token: string): void;
  /** The session ended (signed out, or the server no longer takes its token). */
  onSignedOut(reason: string | null): void;
}

/**
 * The signed-in page: room list with unread counts, the open room's history
 * and live messages, sending through the outbox, typing and presence. Every
 * subscription goes through the kit, so a lost socket or a restarted server
 * resumes messageAdded where it stopped; what roomEvents and myEvents missed
 * meanwhile is fetched again on reconnect.
 */
export function mountChat(root: HTMLElement, options: ChatOptions): () => void {
  const state = new ChatState(options.session.user);
  const me = state.me;
  let disposed = false;

  const transport = new ChatTransport(options.session.token, {
    onToken: (token) => options.onToken(token),
    onStatus: () => renderHeader(),
    onSessionEnded: (reason) => signOut(reason),
    onReconnected: () => void refetchAfterReconnect(),
  });

  const outbox = new Outbox({
    send: (input) => transport.sendMessage(input),
    classify,
    onChange: () => renderMessages(),
    onSent: (message) => receive(message),
  });
  const typingSignal = new TypingSignal({
    roomId: () => state.open?.id ?? null,
    setTyping: (roomId, typing) => transport.setTyping(roomId, typing),
  });

  const list = new MessageList({
    me,
    onWantOlder: () => void maybeLoadOlder(),
    onRetry: (clientId) => outbox.retry(clientId),
    onDiscard: (clientId) => outbox.discard(clientId),
  });
  const layout = new ChatLayout(me, list, {
    onSignOut: () => signOut(null),
    onOpenRoom: (roomId) => void openRoom(roomId),
    onJoinRoom: (roomId) => void joinRoom(roomId),
    onCreateRoom: (name) => void createRoom(name),
    onFindRooms: (query) => void loadPublicRooms(query),
    onTyped: () => typed(),
    onSend: () => send(),
  });
  root.replaceChildren(layout.element);

  function renderHeader() {
    layout.renderHeader(transport.status);
  }

  function renderRooms() {
    layout.renderRooms(state);
  }

  function renderRoomHead() {
    layout.renderRoomHead(state);
  }

  function renderTyping() {
    layout.renderTyping(state.open);
  }

  function renderMessages() {
    list.render(state.open, state.open ? outbox.pending(state.open.id) : []);
  }

  async function loadRooms() {
    const mine = await transport.myRooms().catch(() => null);
    if (!mine) return;
    state.replaceRooms(mine);
    renderRooms();
    renderRoomHead();
  }

  async function loadPublicRooms(query = '') {
    const found = await transport.publicRooms(query).catch(() => null);
    if (!found) return;
    state.publicRooms = found;
    renderRooms();
  }

  async function createRoom(name: string) {
    if (!name) return;
    layout.setRoomsNotice('');
    try {
      const room = await transport.createRoom(name);
      state.setRoom(room);
      await openRoom(room.id);
    } catch (error) {
      layout.setRoomsNotice(describe(error));
    }
  }

  async function joinRoom(roomId: string) {
    layout.setRoomsNotice('');
    try {
      const room = await transport.joinRoom(roomId);
      state.setRoom(room);
      await openRoom(room.id);
    } catch (error) {
      layout.setRoomsNotice(describe(error));
    }
  }

  async function openRoom(roomId: string) {
    if (state.open?.id === roomId) return;
    closeRoom();
    const room = newOpenRoom(roomId, new Typists(() => renderTyping()));
    state.open = room;
    renderRooms();
    renderRoomHead();
    renderTyping();
    try {
      const page = await transport.newestMessages(roomId);
      if (state.open !== room) return;
      room.timeline.addNewest(page);
      // Live from the newest message held: the server replays what came after it, so nothing falls between.
      const after = room.timeline.newest?.cursor ?? null;
      room.stop.push(
        transport.subscribeMessages(roomId, after, {
          onMessage: (message) => receive(message),
          onError: (text) => showRoomError(room, text),
        }),
        transport.subscribeRoomEvents(roomId, (event) => roomEvent(room, event)),
      );
      await loadMembers(room);
    } catch (error) {
      showRoomError(room, describe(error));
    }
    renderMessages();
    markRead();
    layout.focusComposer();
  }

  function closeRoom() {
    if (!state.open) return;
    for (const stop of state.open.stop) stop();
    state.open.typists.clear();
    // While the room is still open, so the stop goes to it.
    typingSignal.stop();
    state.open = null;
  }

  async function loadMembers(room: OpenRoom) {
    const details = await transport.room(room.id).catch(() => null);
    if (!details || state.open !== room) return;
    state.setRoom({ ...state.room(room.id), ...details });
    room.members = new Members(details.members);
    renderRoomHead();
    renderRooms();
  }

  async function maybeLoadOlder() {
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
    if (state.open === room) renderMessages();
  }

  /** A message of the open room, live or as a send's answer. */
  function receive(message: Message) {
    outbox.confirm(message);
    const open = state.open;
    if (open?.id !== message.roomId) return;
    if (open.timeline.add(message)) {
      renderMessages();
      markRead();
    }
  }

  function showRoomError(room: OpenRoom, text: string) {
    room.error = text;
    if (state.open === room) renderMessages();
  }

  function roomEvent(room: OpenRoom, event: RoomEvent) {
    if (state.open !== room) return;
    switch (event.__typename) {
      case 'MessageChanged':
        if (room.timeline.update(event.message)) renderMessages();
        break;
      case 'MemberChanged':
        room.members.change(event.user, event.memberChange);
        renderRoomHead();
        break;
      case 'TypingChanged':
        if (event.user.id === me.id) break;
        room.typists.set(event.user, event.typing);
        renderTyping();
        break;
      case 'ReadReceipt':
        break;
    }
  }

  function userEvent(event: UserEvent) {
    switch (event.__typename) {
      case 'NewMessage': {
        const message = event.message;
        const room = state.room(message.roomId);
        if (!room) return void loadRooms();
        const reading = state.open?.id === message.roomId && document.visibilityState === 'visible';
        state.noteMessage(room, message, reading);
        renderRooms();
        break;
      }
      case 'RoomAdded':
        state.setRoom(event.room);
        renderRooms();
        break;
      case 'RoomRemoved':
        state.removeRoom(event.roomId);
        if (state.open?.id === event.roomId) {
          closeRoom();
          renderMessages();
          renderRoomHead();
        }
        renderRooms();
        break;
    }
  }

  let readTimer: ReturnType<typeof setTimeout> | null = null;
  /** Marks the open room read up to its newest message, once things settle, when the page is in view. */
  function markRead() {
    if (readTimer || !state.open) return;
    readTimer = setTimeout(() => {
      readTimer = null;
      const room = state.openEntry();
      const newest = state.open?.timeline.newest;
      if (!room || !newest || document.visibilityState !== 'visible') return;
      if (room.unreadCount === 0 && (room.lastReadSeq ?? 0) >= newest.seq) return;
      state.setRoom({ ...room, unreadCount: 0 });
      renderRooms();
      void transport
        .markRead(room.id, newest.seq)
        .then((read) => {
          state.updateRoom(read);
          renderRooms();
        })
        .catch(() => {});
    }, 300);
  }

  function typed() {
    typingSignal.typed();
  }

  function send() {
    const body = layout.draft;
    if (!state.open || body.trim() === '') return;
    typingSignal.stop();
    outbox.enqueue(state.open.id, body);
    layout.clearDraft();
    list.scrollToBottom();
    renderMessages();
  }

  /** What roomEvents and myEvents told while the socket was away: read again. Messages resume by themselves. */
  async function refetchAfterReconnect() {
    await loadRooms();
    const open = state.open;
    if (open && open.stop.length === 0) {
      // The room failed to open (its history could not be read): open it again now.
      const id = open.id;
      closeRoom();
      await openRoom(id);
    } else if (open) {
      open.typists.clear();
      open.error = null;
      renderTyping();
      await loadMembers(open);
      renderMessages();
    }
  }

  function signOut(reason: string | null) {
    if (disposed) return;
    dispose();
    options.onSignedOut(reason);
  }

  const onVisible = () => markRead();
  document.addEventListener('visibilitychange', onVisible);

  const stopMyEvents = transport.subscribeMyEvents((event) => userEvent(event));
  renderHeader();
  renderRoomHead();
  renderMessages();
  void loadRooms();
  void loadPublicRooms();

  function dispose() {
    disposed = true;
    document.removeEventListener('visibilitychange', onVisible);
    closeRoom();
    stopMyEvents();
    transport.dispose();
  }
  return dispose;
}

import { ChatLayout } from './layout.js';
import { MessageList } from './message-list.js';
import { ReadMarker } from './read-marker.js';
import { RoomController } from './room-controller.js';
import type { Session } from './session.js';
import { Sidebar } from './sidebar.js';
import { ChatState } from './state.js';
import { ChatTransport } from './transport.js';

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
 * meanwhile is fetched again on reconnect. Returns the function that takes it
 * down again.
 */
export function mountChat(root: HTMLElement, options: ChatOptions): () => void {
  const state = new ChatState(options.session.user);
  let disposed = false;

  // The parts call each other through these closures, so each may name one made after it:
  // none of them runs before the last part is made.
  const transport = new ChatTransport(options.session.token, {
    onToken: (token) => options.onToken(token),
    onStatus: (status) => layout.renderHeader(status),
    onSessionEnded: (reason) => signOut(reason),
    onReconnected: () => void refetchAfterReconnect(),
  });
  const list = new MessageList({
    me: state.me,
    onWantOlder: () => void room.loadOlder(),
    onRetry: (clientId) => room.outbox.retry(clientId),
    onDiscard: (clientId) => room.outbox.discard(clientId),
  });
  const layout = new ChatLayout(state.me, list, {
    onSignOut: () => signOut(null),
    onOpenRoom: (roomId) => void room.open(roomId),
    onJoinRoom: (roomId) => void sidebar.join(roomId),
    onCreateRoom: (name) => void sidebar.create(name),
    onFindRooms: (query) => void sidebar.loadPublicRooms(query),
    onTyped: () => room.typed(),
    onSend: () => room.send(),
  });
  const reads = new ReadMarker({ state, transport, onChange: () => layout.renderRooms(state) });
  const room = new RoomController({ state, transport, layout, list, markRead: () => reads.schedule() });
  const sidebar = new Sidebar({ state, transport, layout, room });
  root.replaceChildren(layout.element);

  /** What roomEvents and myEvents told while the socket was away: read again. Messages resume by themselves. */
  async function refetchAfterReconnect() {
    await sidebar.loadRooms();
    await room.afterReconnect();
  }

  function signOut(reason: string | null) {
    if (disposed) return;
    dispose();
    options.onSignedOut(reason);
  }

  const onVisible = () => reads.schedule();
  document.addEventListener('visibilitychange', onVisible);

  const stopMyEvents = transport.subscribeMyEvents((event) => sidebar.userEvent(event));
  layout.renderHeader(transport.status);
  layout.renderRoomHead(state);
  room.renderMessages();
  void sidebar.loadRooms();
  void sidebar.loadPublicRooms();

  function dispose() {
    disposed = true;
    document.removeEventListener('visibilitychange', onVisible);
    room.close();
    stopMyEvents();
    transport.dispose();
  }
  return dispose;
}

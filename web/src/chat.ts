import { describe, describeUploadError } from './api.js';
import { Composer } from './composer.js';
import { ChatLayout } from './layout.js';
import { MessageList } from './message-list.js';
import { PeopleFinder } from './people.js';
import { PushControl } from './push-control.js';
import { ReadMarker } from './read-marker.js';
import { RoomController } from './room-controller.js';
import { RoomLink } from './room-link.js';
import type { Session } from './session.js';
import { Sidebar } from './sidebar.js';
import { ChatState } from './state.js';
import { ThreadPanel } from './thread-panel.js';
import { ChatTransport } from './transport.js';

export interface ChatOptions {
  session: Session;
  /** A refreshed token (kept by the caller for the next page load). */
  onToken(token: string): void;
  /** The session ended (signed out, or the server no longer takes its token). */
  onSignedOut(reason: string | null): void;
}

/**
 * The signed-in page: room list with unread and mention counts, the open
 * room's timeline and live messages, its pinned messages and threads,
 * sending through the outbox (with @-mentions), replies, edits, deletions,
 * reactions and pins, typing and presence, message search, finding people to
 * invite or message directly, notifications (Web Push in this browser, and
 * each room's level and mute), the open room in the address (#room=, where
 * a notification's click leads). Every subscription goes through the kit, so a
 * lost socket or a restarted server resumes messageAdded where it stopped;
 * what roomEvents and myEvents missed meanwhile is fetched again on
 * reconnect. Returns the function that takes it down again.
 */
export function mountChat(root: HTMLElement, options: ChatOptions): () => void {
  const state = new ChatState(options.session.user);
  let disposed = false;
  /** Answers to an earlier search that arrive after a later one are dropped. */
  let searches = 0;

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
    actions: {
      onReply: (m) => room.actions.onReply(m),
      onEdit: (m) => room.actions.onEdit(m),
      onSaveEdit: (m, body) => room.actions.onSaveEdit(m, body),
      onCancelEdit: () => room.actions.onCancelEdit(),
      onDelete: (m) => room.actions.onDelete(m),
      onConfirmDelete: (m) => room.actions.onConfirmDelete(m),
      onCancelDelete: () => room.actions.onCancelDelete(),
      onTogglePicker: (m) => room.actions.onTogglePicker(m),
      onReact: (m, emoji) => room.actions.onReact(m, emoji),
      onToggleMenu: (m) => room.actions.onToggleMenu(m),
      onJump: (seq) => room.actions.onJump(seq),
      onReport: (m) => room.actions.onReport(m),
      onSendReport: (m, reason, details) => room.actions.onSendReport(m, reason, details),
      onCancelReport: () => room.actions.onCancelReport(),
      onOpenThread: (m) => room.actions.onOpenThread(m),
      onPin: (m, pinned) => room.actions.onPin(m, pinned),
    },
  });
  /** Whom the @-mention pickers offer: the open room's members, as its members panel knows them. */
  const members = () => state.open?.members.list().map((m) => m.user) ?? [];
  const composer = new Composer({
    id: 'composer',
    label: (name) => (name ? `Message ${name}` : 'Message'),
    members,
    me: state.me,
    uploader: transport.uploader,
    describe: describeUploadError,
    onTyped: () => room.typed(),
    onSend: () => room.send(),
    onCancelReply: () => room.cancelReply(),
  });
  // Files dropped on the timeline go with the room's next message.
  composer.acceptDrops(list.scroller);
  const threadPanel = new ThreadPanel(
    state.me,
    new Composer({
      id: 'thread-composer',
      label: () => 'Reply in this thread',
      members,
      me: state.me,
      alsoToRoom: true,
      uploader: transport.uploader,
      describe: describeUploadError,
      onTyped: () => room.typed(),
      onSend: () => room.threads.send(),
      onCancelReply: () => {},
    }),
    {
      onClose: () => room.threads.close(),
      onToggleFollow: () => void room.threads.toggleFollow(),
      onWantOlder: () => void room.threads.loadOlder(),
      onRetry: (clientId) => room.outbox.retry(clientId),
      onDiscard: (clientId) => room.outbox.discard(clientId),
    },
  );
  threadPanel.composer.acceptDrops(threadPanel.element);
  const people = new PeopleFinder({
    id: 'find-people',
    label: 'Find people by username',
    action: 'Message',
    testid: 'people',
    find: (query) => transport.findUsers(query),
    exclude: () => new Set([state.me.id]),
    onPick: (user): Promise<void> => sidebar.openDirect(user),
  });
  const invite = new PeopleFinder({
    id: 'invite-people',
    label: 'Invite by username',
    action: 'Invite',
    testid: 'invite',
    find: (query) => transport.findUsers(query),
    exclude: () => new Set(state.open?.members.list().map((m) => m.user.id) ?? []),
    onPick: (user): Promise<void> => sidebar.invite(user),
  });
  const push = new PushControl(
    {
      vapidPublicKey: () => transport.vapidPublicKey(),
      registerPushSubscription: (input) => transport.registerPushSubscription(input),
      unregisterPushSubscription: (endpoint) => transport.unregisterPushSubscription(endpoint),
    },
    state.me.id,
  );
  const link = new RoomLink((roomId) => void openLinked(roomId));
  const layout = new ChatLayout(state.me, list, composer, threadPanel, { people, invite }, push, {
    onSignOut: () => signOut(null),
    onOpenRoom: (roomId) => void sidebar.open(roomId),
    onJoinRoom: (roomId) => void sidebar.join(roomId),
    onCreateRoom: (name, visibility) => void sidebar.create(name, visibility),
    onFindRooms: (query) => void sidebar.loadPublicRooms(query),
    onSearch: (query) => void search(query),
    onOpenResult: (message) => void sidebar.openAt(message),
    onLeave: () => void sidebar.leave(),
    onMessageMember: (user) => void sidebar.openDirect(user),
    onShowMembers: () => void room.refreshMembers(),
    onMute: (user, seconds) => void room.mute(user, seconds),
    onKick: (user) => void room.kick(user),
    onBan: (user, seconds) => void room.ban(user, seconds),
    onSetRole: (user, role) => void room.setRole(user, role),
    onSaveSettings: (settings) => void room.updateSettings(settings),
    onUnpin: (message) => room.actions.onPin(message, false),
    onSetNotifications: (level, mutedUntil) => void room.setNotifications(level, mutedUntil),
  });
  const reads = new ReadMarker({ state, transport, onChange: () => layout.renderRooms(state) });
  const room = new RoomController({
    state,
    transport,
    layout,
    list,
    composer,
    threadPanel,
    markRead: () => reads.schedule(),
  });
  const sidebar = new Sidebar({ state, transport, layout, room, link, markRead: () => reads.schedule() });
  root.replaceChildren(layout.element);

  async function search(query: string) {
    const asked = ++searches;
    const roomName = (roomId: string) => {
      const listed = state.room(roomId);
      return listed ? state.roomName(listed) : 'a room you left';
    };
    layout.showSearch(query, null, roomName);
    try {
      const results = await transport.searchMessages(query);
      if (asked === searches) layout.showSearch(query, results, roomName);
    } catch (error) {
      if (asked === searches) layout.showSearchError(query, describe(error));
    }
  }

  /** The room list has been read once: a link can be checked against it. */
  let roomsRead = false;
  /** The room a link named before the room list was read (the page's own address, at load). */
  let linked: string | null = link.current();

  /** Reads the room list, then opens the room a link named meanwhile. */
  async function loadRooms() {
    if (!(await sidebar.loadRooms())) return;
    roomsRead = true;
    const roomId = linked;
    linked = null;
    if (roomId) await openLinked(roomId);
  }

  /** The address names a room (#room=<id>: a notification's click, a link): opened if it is one of the user's. */
  async function openLinked(roomId: string) {
    if (!roomsRead) {
      linked = roomId;
      return;
    }
    if (state.room(roomId)) return sidebar.open(roomId);
    link.show(state.open?.id ?? null);
    const text = 'The room in that link is not one of your rooms: you may have left it, or been removed.';
    if (state.open) {
      state.open.error = text;
      room.renderMessages();
    } else {
      layout.showRoomNotice(text);
    }
  }

  /** What roomEvents and myEvents told while the socket was away: read again. Messages resume by themselves. */
  async function refetchAfterReconnect() {
    await loadRooms();
    await room.afterReconnect();
    void sidebar.loadPublicRooms();
  }

  /** reason null: the user signed out, and this browser's notifications stop with the session (not so for one that lapsed). */
  function signOut(reason: string | null) {
    if (disposed) return;
    if (reason === null) void push.forget();
    dispose();
    options.onSignedOut(reason);
  }

  const onVisible = () => {
    reads.schedule();
    room.threads.markRead();
  };
  document.addEventListener('visibilitychange', onVisible);
  // A file dropped where no box takes it must not replace the page with itself (the browser's default).
  const ignoreDrop = (event: DragEvent) => {
    if (event.defaultPrevented || !event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'none';
  };
  addEventListener('dragover', ignoreDrop);
  addEventListener('drop', ignoreDrop);

  const stopMyEvents = transport.subscribeMyEvents((event) => sidebar.userEvent(event));
  layout.renderHeader(transport.status);
  layout.renderRoomHead(state);
  room.renderMessages();
  void loadRooms();
  void sidebar.loadPublicRooms();
  void push.start();
  sidebar.startPolling();

  function dispose() {
    disposed = true;
    document.removeEventListener('visibilitychange', onVisible);
    removeEventListener('dragover', ignoreDrop);
    removeEventListener('drop', ignoreDrop);
    sidebar.stop();
    link.dispose();
    room.close();
    stopMyEvents();
    transport.dispose();
  }
  return dispose;
}

import type { RoomFieldsFragment } from '../../client/index.js';
import { classify, describe } from './api.js';
import { h } from './dom.js';
import { Outbox } from './outbox.js';
import type { Session } from './session.js';
import { Timeline, type Message } from './timeline.js';
import { ChatTransport, type RoomEvent, type UserEvent } from './transport.js';
import {
  fieldForm,
  headerView,
  membersView,
  messageView,
  outgoingView,
  publicRoomItems,
  roomItems,
  typingView,
  type Member,
} from './views.js';

/** Repeat setTyping(true) this often while keys are pressed (the server lets it lapse after 5 s). */
const TYPING_REPEAT_MS = 3000;
/** Say typing stopped after this long without a key. */
const TYPING_IDLE_MS = 4000;
/** Forget a typist whose stop never came (the server sends one at its lapse; this covers a lost socket). */
const TYPING_FORGET_MS = 7000;

export interface ChatOptions {
  session: Session;
  /** A refreshed token (kept by the caller for the next page load). */
  onToken(token: string): void;
  /** The session ended (signed out, or the server no longer takes its token). */
  onSignedOut(reason: string | null): void;
}

/** The open room: its timeline, members, typists and subscriptions. */
interface OpenRoom {
  id: string;
  timeline: Timeline;
  members: Map<string, Member>;
  typing: Map<string, { username: string; timer: ReturnType<typeof setTimeout> }>;
  loadingOlder: boolean;
  error: string | null;
  stop: Array<() => void>;
}

/**
 * The signed-in page: room list with unread counts, the open room's history
 * and live messages, sending through the outbox, typing and presence. Every
 * subscription goes through the kit, so a lost socket or a restarted server
 * resumes messageAdded where it stopped; what roomEvents and myEvents missed
 * meanwhile is fetched again on reconnect.
 */
export function mountChat(root: HTMLElement, options: ChatOptions): () => void {
  const me = options.session.user;
  let rooms = new Map<string, RoomFieldsFragment>();
  let publicRooms: RoomFieldsFragment[] = [];
  let open: OpenRoom | null = null;
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

  // The page's parts, built once; each render fills one of them.
  const header = h('div');
  const myRoomsList = h('ul', { 'data-testid': 'my-rooms' });
  const publicList = h('ul', { 'data-testid': 'public-rooms' });
  const sidebarNotice = h('p', { class: 'notice error', role: 'alert', 'data-testid': 'rooms-notice' });
  const roomTitle = h('h2', { 'data-testid': 'room-title' }, 'Pick or create a room');
  const members = h('div');
  const messages = h('ol', { class: 'messages', 'data-testid': 'messages' });
  const scroller = h('div', { class: 'scroller', 'data-testid': 'scroller', onscroll: () => void maybeLoadOlder() }, messages);
  const notice = h('p', { class: 'notice', 'data-testid': 'room-notice' });
  const typing = h('div');
  const composer = h('textarea', {
    rows: 2,
    maxlength: 4000,
    placeholder: 'Write a message',
    'data-testid': 'composer',
    disabled: true,
    oninput: () => typed(),
    onkeydown: (event: Event) => {
      const key = event as KeyboardEvent;
      if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
        key.preventDefault();
        send();
      }
    },
  }) as HTMLTextAreaElement;
  const sendButton = h(
    'button',
    { type: 'button', 'data-testid': 'send', disabled: true, onclick: () => send() },
    'Send',
  ) as HTMLButtonElement;

  root.replaceChildren(
    h(
      'div',
      { class: 'chat' },
      header,
      h(
        'aside',
        { class: 'rooms' },
        h('h2', {}, 'Your rooms'),
        myRoomsList,
        fieldForm({
          placeholder: 'New room name',
          button: 'Create',
          testid: 'create-room',
          onSubmit: (name) => void createRoom(name),
        }),
        h('h2', {}, 'Public rooms'),
        fieldForm({
          placeholder: 'Find public rooms',
          button: 'Find',
          testid: 'find-rooms',
          type: 'search',
          onSubmit: (query) => void loadPublicRooms(query),
        }),
        publicList,
      ),
      h(
        'main',
        { class: 'room-pane' },
        h('div', { class: 'room-head' }, roomTitle, members),
        scroller,
        notice,
        typing,
        h('div', { class: 'composer row' }, composer, sendButton),
      ),
    ),
  );

  function renderHeader() {
    header.replaceChildren(headerView(me, transport.status, () => signOut(null)));
  }

  function renderRooms() {
    const sorted = [...rooms.values()].sort((a, b) =>
      (b.lastMessage?.createdAt ?? b.createdAt).localeCompare(a.lastMessage?.createdAt ?? a.createdAt),
    );
    myRoomsList.replaceChildren(...roomItems(sorted, open?.id ?? null, (id) => void openRoom(id)));
    publicList.replaceChildren(...publicRoomItems(publicRooms, new Set(rooms.keys()), (id) => void joinRoom(id)));
    const unread = sorted.reduce((sum, room) => sum + room.unreadCount, 0);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
  }

  function renderRoomHead() {
    const room = open && rooms.get(open.id);
    roomTitle.textContent = room ? (room.name ?? 'Direct') : 'Pick or create a room';
    members.replaceChildren(open ? membersView([...open.members.values()]) : '');
    composer.disabled = sendButton.disabled = !open;
  }

  function renderTyping() {
    typing.replaceChildren(typingView(open ? [...open.typing.values()].map((t) => t.username).sort() : []));
  }

  /** Redraws the list, keeping the reader where they were: at the bottom as messages arrive, on the same message as older ones load above. */
  function renderMessages() {
    if (!open) return messages.replaceChildren();
    const room = open;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    const before = scroller.scrollHeight;
    const topBefore = scroller.scrollTop;
    const stored = room.timeline.list();
    const storedIds = new Set(stored.map((m) => m.clientId).filter(Boolean));
    const head = room.timeline.hasOlder
      ? h(
          'li',
          { class: 'older', 'data-testid': 'older' },
          room.loadingOlder ? 'Loading older messages…' : 'Scroll up for older messages',
        )
      : h('li', { class: 'older start', 'data-testid': 'room-start' }, 'The start of the room');
    messages.replaceChildren(
      head,
      ...stored.map((m) => messageView(m, me)),
      ...outbox
        .pending(room.id)
        .filter((m) => !storedIds.has(m.clientId))
        .map((m) =>
          outgoingView(
            m,
            me,
            () => outbox.retry(m.clientId),
            () => outbox.discard(m.clientId),
          ),
        ),
    );
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
    else scroller.scrollTop = topBefore + (scroller.scrollHeight - before) * Number(topBefore < 80);
    notice.textContent = room.error ?? '';
    // A short history does not fill the pane, so no scroll would ever ask for more: ask now.
    if (scroller.scrollHeight <= scroller.clientHeight + 1) void maybeLoadOlder();
  }

  async function loadRooms() {
    const list = await transport.myRooms().catch(() => null);
    if (!list) return;
    rooms = new Map(list.map((room) => [room.id, room]));
    renderRooms();
    renderRoomHead();
  }

  async function loadPublicRooms(query = '') {
    const found = await transport.publicRooms(query).catch(() => null);
    if (!found) return;
    publicRooms = found;
    renderRooms();
  }

  async function createRoom(name: string) {
    if (!name) return;
    sidebarNotice.textContent = '';
    try {
      const room = await transport.createRoom(name);
      rooms.set(room.id, room);
      await openRoom(room.id);
    } catch (error) {
      sidebarNotice.textContent = describe(error);
    }
  }

  async function joinRoom(roomId: string) {
    sidebarNotice.textContent = '';
    try {
      const room = await transport.joinRoom(roomId);
      rooms.set(room.id, room);
      await openRoom(room.id);
    } catch (error) {
      sidebarNotice.textContent = describe(error);
    }
  }

  async function openRoom(roomId: string) {
    if (open?.id === roomId) return;
    closeRoom();
    const room: OpenRoom = {
      id: roomId,
      timeline: new Timeline(),
      members: new Map(),
      typing: new Map(),
      loadingOlder: false,
      error: null,
      stop: [],
    };
    open = room;
    renderRooms();
    renderRoomHead();
    renderTyping();
    try {
      const page = await transport.newestMessages(roomId);
      if (open !== room) return;
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
    composer.focus();
  }

  function closeRoom() {
    if (!open) return;
    for (const stop of open.stop) stop();
    for (const t of open.typing.values()) clearTimeout(t.timer);
    stopTyping();
    open = null;
  }

  async function loadMembers(room: OpenRoom) {
    const details = await transport.room(room.id).catch(() => null);
    if (!details || open !== room) return;
    rooms.set(room.id, { ...rooms.get(room.id), ...details });
    room.members = new Map(details.members.map((m) => [m.user.id, { user: m.user, role: m.role }]));
    renderRoomHead();
    renderRooms();
  }

  async function maybeLoadOlder() {
    const room = open;
    if (!room || room.loadingOlder || !room.timeline.hasOlder || scroller.scrollTop > 80) return;
    room.loadingOlder = true;
    try {
      const before = room.timeline.oldest?.cursor ?? null;
      room.timeline.addOlder(await transport.olderMessages(room.id, before));
    } catch (error) {
      room.error = describe(error);
    } finally {
      room.loadingOlder = false;
    }
    if (open === room) renderMessages();
  }

  /** A message of the open room, live or as a send's answer. */
  function receive(message: Message) {
    outbox.confirm(message);
    if (open?.id !== message.roomId) return;
    if (open.timeline.add(message)) {
      renderMessages();
      markRead();
    }
  }

  function showRoomError(room: OpenRoom, text: string) {
    room.error = text;
    if (open === room) renderMessages();
  }

  function roomEvent(room: OpenRoom, event: RoomEvent) {
    if (open !== room) return;
    switch (event.__typename) {
      case 'MessageChanged':
        if (room.timeline.update(event.message)) renderMessages();
        break;
      case 'MemberChanged': {
        const change = event.memberChange;
        if (change === 'LEFT') room.members.delete(event.user.id);
        else room.members.set(event.user.id, { role: room.members.get(event.user.id)?.role ?? 'MEMBER', user: event.user });
        renderRoomHead();
        break;
      }
      case 'TypingChanged': {
        if (event.user.id === me.id) break;
        const held = room.typing.get(event.user.id);
        if (held) clearTimeout(held.timer);
        room.typing.delete(event.user.id);
        if (event.typing) {
          const timer = setTimeout(() => {
            room.typing.delete(event.user.id);
            renderTyping();
          }, TYPING_FORGET_MS);
          room.typing.set(event.user.id, { username: event.user.username, timer });
        }
        renderTyping();
        break;
      }
      case 'ReadReceipt':
        break;
    }
  }

  function userEvent(event: UserEvent) {
    switch (event.__typename) {
      case 'NewMessage': {
        const message = event.message;
        const room = rooms.get(message.roomId);
        if (!room) return void loadRooms();
        const reading = open?.id === message.roomId && document.visibilityState === 'visible';
        const counts = !reading && message.author.id !== me.id && message.seq > (room.lastReadSeq ?? 0);
        rooms.set(room.id, { ...room, lastMessage: message, unreadCount: room.unreadCount + Number(counts) });
        renderRooms();
        break;
      }
      case 'RoomAdded':
        rooms.set(event.room.id, event.room);
        renderRooms();
        break;
      case 'RoomRemoved':
        rooms.delete(event.roomId);
        if (open?.id === event.roomId) {
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
    if (readTimer || !open) return;
    readTimer = setTimeout(() => {
      readTimer = null;
      const room = open && rooms.get(open.id);
      const newest = open?.timeline.newest;
      if (!room || !newest || document.visibilityState !== 'visible') return;
      if (room.unreadCount === 0 && (room.lastReadSeq ?? 0) >= newest.seq) return;
      rooms.set(room.id, { ...room, unreadCount: 0 });
      renderRooms();
      void transport
        .markRead(room.id, newest.seq)
        .then((read) => {
          const current = rooms.get(read.id);
          if (current) rooms.set(read.id, { ...current, ...read });
          renderRooms();
        })
        .catch(() => {});
    }, 300);
  }

  let typingSentAt = 0;
  let typingIdle: ReturnType<typeof setTimeout> | null = null;
  function typed() {
    if (!open) return;
    const roomId = open.id;
    if (Date.now() - typingSentAt > TYPING_REPEAT_MS) {
      typingSentAt = Date.now();
      void transport.setTyping(roomId, true).catch(() => {});
    }
    if (typingIdle) clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    if (typingIdle) clearTimeout(typingIdle);
    typingIdle = null;
    if (!typingSentAt || !open) return;
    typingSentAt = 0;
    void transport.setTyping(open.id, false).catch(() => {});
  }

  function send() {
    const body = composer.value;
    if (!open || body.trim() === '') return;
    stopTyping();
    outbox.enqueue(open.id, body);
    composer.value = '';
    scroller.scrollTop = scroller.scrollHeight;
    renderMessages();
  }

  /** What roomEvents and myEvents told while the socket was away: read again. Messages resume by themselves. */
  async function refetchAfterReconnect() {
    await loadRooms();
    if (open && open.stop.length === 0) {
      // The room failed to open (its history could not be read): open it again now.
      const id = open.id;
      closeRoom();
      await openRoom(id);
    } else if (open) {
      for (const t of open.typing.values()) clearTimeout(t.timer);
      open.typing.clear();
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

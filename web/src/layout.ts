import type { NotificationLevel, RoomFieldsFragment, RoomRole, RoomVisibility, UserFieldsFragment } from '../../client/index.js';
import type { Composer } from './composer.js';
import { h, keepingFocus } from './dom.js';
import type { MessageList } from './message-list.js';
import { rank, remaining, SLOW_MODE_CHOICES } from './moderation.js';
import type { PeopleFinder } from './people.js';
import { isMuted, muteUntil, roomNotificationsView } from './room-notifications.js';
import { mentionTotal, unreadTotal, type ChatState, type OpenRoom } from './state.js';
import type { ThreadPanel } from './thread-panel.js';
import type { Message } from './timeline.js';
import {
  membersView,
  pinsView,
  publicRoomItems,
  roomItems,
  roomKindText,
  searchResultsView,
  statusText,
  typingView,
  type ConnectionStatus,
} from './views.js';

export interface LayoutHandlers {
  onSignOut(): void;
  onOpenRoom(roomId: string): void;
  onJoinRoom(roomId: string): void;
  onCreateRoom(name: string, visibility: RoomVisibility): void;
  onFindRooms(query: string): void;
  onSearch(query: string): void;
  onOpenResult(message: Message): void;
  onLeave(): void;
  onMessageMember(user: UserFieldsFragment): void;
  /** The members panel was opened: its presence is read again. */
  onShowMembers(): void;
  onMute(user: UserFieldsFragment, seconds: number): void;
  onKick(user: UserFieldsFragment): void;
  onBan(user: UserFieldsFragment, seconds: number | null): void;
  onSetRole(user: UserFieldsFragment, role: RoomRole): void;
  onSaveSettings(settings: { slowModeSeconds: number; frozen: boolean }): void;
  onUnpin(message: Message): void;
  /** The viewer's notifications in the open room: a level, muted until then (null: not muted). */
  onSetNotifications(level: NotificationLevel, mutedUntil: string | null): void;
}

/** Below this width the room list is a drawer over the room (the CSS uses the same figure). */
const NARROW = '(max-width: 699.98px)';

/** Which panel of the room head is open. */
type RoomPanel = 'members' | 'invite' | 'leave' | 'settings' | 'notifications' | null;

/**
 * The signed-in page's parts, built once; each render fills one of them from
 * the state. Wide screens show the room list beside the room; narrow ones
 * (under 700 px) keep it in a drawer that the menu button opens, which
 * closes again on a choice, on Escape or outside it.
 */
export class ChatLayout {
  readonly element: HTMLElement;
  private readonly status = h('span', { class: 'status', role: 'status', 'data-testid': 'status' });
  private readonly menuButton: HTMLButtonElement;
  private readonly drawer: HTMLElement;
  private readonly myRoomsList = h('ul', { class: 'room-list', 'data-testid': 'my-rooms', 'aria-label': 'Your rooms' });
  private readonly publicList = h('ul', { class: 'public-list', 'data-testid': 'public-rooms', 'aria-label': 'Public rooms' });
  private readonly roomsNotice = h('p', { class: 'notice error', role: 'alert', 'data-testid': 'rooms-notice' });
  private readonly roomTitle = h('h2', { id: 'room-title', 'data-testid': 'room-title' }, 'Pick or create a room');
  private readonly roomKind = h('span', { class: 'room-kind', 'data-testid': 'room-kind' });
  private readonly roomActions = h('div', { class: 'room-actions' });
  private readonly membersPanel = h('section', { id: 'members-panel', class: 'panel', 'aria-label': 'Members', hidden: true });
  private readonly invitePanel = h('section', {
    id: 'invite-panel',
    class: 'panel',
    'aria-label': 'Invite people',
    hidden: true,
  });
  private readonly leavePanel = h('section', { id: 'leave-panel', class: 'panel', 'aria-label': 'Leave the room', hidden: true });
  private readonly settingsPanel = h('section', {
    id: 'settings-panel',
    class: 'panel',
    'aria-label': 'Room settings',
    hidden: true,
  });
  private readonly notificationsPanel = h('section', {
    id: 'notifications-panel',
    class: 'panel notify',
    'aria-label': 'Notifications for this room',
    'data-testid': 'notifications-panel',
    hidden: true,
  });
  /** What the notifications panel shows, so it is rebuilt only when that changes. */
  private notificationsSignature = '';
  /** The member whose moderation actions are shown in the members panel. */
  private moderating: string | null = null;
  /** The open room's state, for the panels built on demand. */
  private openRoom: OpenRoom | null = null;
  private readonly searchPanel: HTMLElement;
  private readonly searchBody = h('div', { class: 'search-body' });
  private readonly searchHeading = h('h2', { id: 'search-heading', tabindex: -1 }, 'Search results');
  private readonly typing = h('p', { class: 'typing', 'data-testid': 'typing', 'aria-live': 'polite' });
  private readonly pins = h('section', { class: 'pins', 'aria-labelledby': 'pins-heading', 'data-testid': 'pins', hidden: true });
  /** The pinned strip shows all pins, not only the newest. */
  private pinsExpanded = false;
  private pinsSignature = '';
  private readonly roomPane: HTMLElement;
  private readonly searchInput: HTMLInputElement;
  private panel: RoomPanel = null;
  private drawerOpen = false;
  private readonly narrow = matchMedia(NARROW);

  constructor(
    private readonly me: UserFieldsFragment,
    private readonly messages: MessageList,
    private readonly composer: Composer,
    private readonly threadPanel: ThreadPanel,
    private readonly finders: { people: PeopleFinder; invite: PeopleFinder },
    /** "Enable notifications" (Web Push in this browser), at the end of the room list. */
    pushControl: { readonly element: HTMLElement },
    private readonly handlers: LayoutHandlers,
  ) {
    this.menuButton = h(
      'button',
      {
        type: 'button',
        class: 'menu secondary',
        'data-testid': 'menu',
        'aria-controls': 'rooms',
        'aria-expanded': 'false',
        onclick: () => this.setDrawer(!this.drawerOpen),
      },
      h('span', { 'aria-hidden': 'true' }, '☰'),
      h('span', { class: 'menu-label' }, ' Rooms'),
    ) as HTMLButtonElement;
    this.searchInput = h('input', {
      id: 'search-messages',
      type: 'search',
      maxlength: 256,
      'data-testid': 'search-input',
    }) as HTMLInputElement;
    const privateBox = h('input', {
      id: 'create-private',
      type: 'checkbox',
      'data-testid': 'create-private',
    }) as HTMLInputElement;
    const roomName = h('input', {
      id: 'create-room-name',
      maxlength: 100,
      required: true,
      'data-testid': 'create-room-input',
    }) as HTMLInputElement;
    const findRooms = h('input', {
      id: 'find-rooms',
      type: 'search',
      maxlength: 100,
      'data-testid': 'find-rooms-input',
    }) as HTMLInputElement;

    this.drawer = h(
      'nav',
      { id: 'rooms', class: 'rooms', 'aria-label': 'Rooms and people' },
      h(
        'form',
        {
          class: 'search-form',
          role: 'search',
          onsubmit: (event: Event) => {
            event.preventDefault();
            const query = this.searchInput.value.trim();
            if (query) handlers.onSearch(query);
          },
        },
        h('label', { for: 'search-messages' }, 'Search messages'),
        h(
          'div',
          { class: 'row' },
          this.searchInput,
          h('button', { type: 'submit', class: 'secondary', 'data-testid': 'search' }, 'Search'),
        ),
      ),
      h('h2', {}, 'Your rooms'),
      this.myRoomsList,
      this.roomsNotice,
      h(
        'form',
        {
          class: 'create-room',
          onsubmit: (event: Event) => {
            event.preventDefault();
            const name = roomName.value.trim();
            if (!name) return;
            handlers.onCreateRoom(name, privateBox.checked ? 'PRIVATE' : 'PUBLIC');
            roomName.value = '';
            privateBox.checked = false;
          },
        },
        h('h2', {}, 'New room'),
        h('label', { for: 'create-room-name' }, 'Room name'),
        h(
          'div',
          { class: 'row' },
          roomName,
          h('button', { type: 'submit', class: 'secondary', 'data-testid': 'create-room' }, 'Create'),
        ),
        h('div', { class: 'check' }, privateBox, h('label', { for: 'create-private' }, 'Private: only people I invite')),
      ),
      h('h2', {}, 'People'),
      finders.people.element,
      h('h2', {}, 'Public rooms'),
      h(
        'form',
        {
          class: 'find-rooms',
          role: 'search',
          onsubmit: (event: Event) => {
            event.preventDefault();
            handlers.onFindRooms(findRooms.value.trim());
          },
        },
        h('label', { for: 'find-rooms' }, 'Filter public rooms'),
        h(
          'div',
          { class: 'row' },
          findRooms,
          h('button', { type: 'submit', class: 'secondary', 'data-testid': 'find-rooms' }, 'Find'),
        ),
      ),
      this.publicList,
      pushControl.element,
    );

    this.searchPanel = h(
      'section',
      {
        class: 'search-panel',
        'aria-labelledby': 'search-heading',
        'data-testid': 'search-panel',
        hidden: true,
        onkeydown: (event: Event) => {
          if ((event as KeyboardEvent).key === 'Escape') this.closeSearch();
        },
      },
      h(
        'div',
        { class: 'panel-head' },
        this.searchHeading,
        h(
          'button',
          { type: 'button', class: 'secondary', 'data-testid': 'close-search', onclick: () => this.closeSearch() },
          'Close',
        ),
      ),
      this.searchBody,
    );

    this.element = h(
      'div',
      {
        class: 'chat',
        onkeydown: (event: Event) => {
          if ((event as KeyboardEvent).key !== 'Escape' || !this.drawerOpen) return;
          this.setDrawer(false);
          this.menuButton.focus();
        },
      },
      h('a', { class: 'skip', href: '#composer' }, 'Skip to the message box'),
      h(
        'header',
        { class: 'top' },
        this.menuButton,
        h('strong', { class: 'brand' }, 'Chat'),
        this.status,
        h(
          'span',
          { class: 'me' },
          h('span', { class: 'visually-hidden' }, 'Signed in as '),
          h('span', { 'data-testid': 'me' }, me.username),
        ),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => handlers.onSignOut(), 'data-testid': 'sign-out' },
          'Sign out',
        ),
      ),
      this.drawer,
      h('div', { class: 'scrim', 'aria-hidden': 'true', onclick: () => this.setDrawer(false) }),
      (this.roomPane = h(
        'main',
        { class: 'room-pane', 'aria-labelledby': 'room-title' },
        h('div', { class: 'room-head' }, h('div', { class: 'room-heading' }, this.roomTitle, this.roomKind), this.roomActions),
        this.membersPanel,
        this.invitePanel,
        this.leavePanel,
        this.settingsPanel,
        this.notificationsPanel,
        this.pins,
        messages.scroller,
        messages.notice,
        this.typing,
        composer.element,
        threadPanel.element,
        this.searchPanel,
      )),
    );
    this.narrow.addEventListener('change', () => this.setDrawer(false));
    this.setDrawer(false);
  }

  renderHeader(status: ConnectionStatus): void {
    this.status.textContent = statusText(status);
    this.status.dataset.status = status;
    this.status.className = `status ${status}`;
  }

  /** Both room lists, and the unread total in the tab's title. */
  renderRooms(state: ChatState): void {
    const sorted = state.sortedRooms();
    const nameOf = (room: RoomFieldsFragment) => state.roomName(room);
    keepingFocus(this.myRoomsList, ['data-room-id'], () =>
      this.myRoomsList.replaceChildren(
        ...(sorted.length
          ? roomItems(sorted, state.open?.id ?? null, nameOf, (id) => this.handlers.onOpenRoom(id))
          : [h('li', { class: 'hint' }, 'No rooms yet: create one, or join a public one below.')]),
      ),
    );
    keepingFocus(this.publicList, ['aria-label'], () =>
      this.publicList.replaceChildren(
        ...publicRoomItems(state.publicRooms, state.roomIds(), (id) => this.handlers.onJoinRoom(id)),
      ),
    );
    const unread = unreadTotal(sorted);
    const mentions = mentionTotal(sorted);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
    this.menuButton.setAttribute(
      'aria-label',
      ['Rooms', unread > 0 && `${unread} unread`, mentions > 0 && `${mentions} mentioning you`].filter(Boolean).join(', '),
    );
    this.renderTitle(state);
  }

  /** The open room's head: its name, its kind, what one may do in it, and the members panel. */
  renderRoomHead(state: ChatState): void {
    const open = state.open;
    const room = state.openEntry();
    this.renderTitle(state);
    const name = open ? (room ? state.roomName(room) : 'this room') : null;
    this.composer.setRoom(name, open?.id ?? null);
    this.threadPanel.composer.setRoom(name, open?.id ?? null);
    this.messages.setLabel(room ? state.roomName(room) : null);
    if (!open || !room) {
      this.roomActions.replaceChildren();
      this.showPanel(null);
      return;
    }
    this.openRoom = open;
    const myRole = open.viewerRole ?? open.members.list().find((m) => m.user.id === this.me.id)?.role ?? null;
    const canInvite = room.kind === 'GROUP' && (room.visibility === 'PUBLIC' || myRole === 'OWNER');
    const canSettle = room.kind === 'GROUP' && rank(myRole) >= rank('ADMIN');
    const toggle = (panel: Exclude<RoomPanel, null>, label: string, testid: string, controls: string) =>
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-testid': testid,
          'aria-expanded': String(this.panel === panel),
          'aria-controls': controls,
          onclick: () => this.togglePanel(panel),
        },
        label,
      );
    keepingFocus(this.roomActions, ['data-testid'], () =>
      this.roomActions.replaceChildren(
        toggle('members', `Members (${open.members.list().length})`, 'members-toggle', 'members-panel'),
        ...(canInvite ? [toggle('invite', 'Invite', 'invite-toggle', 'invite-panel')] : []),
        ...(canSettle ? [toggle('settings', 'Settings', 'settings-toggle', 'settings-panel')] : []),
        toggle(
          'notifications',
          open.notifications && isMuted(open.notifications) ? 'Notifications: muted' : 'Notifications',
          'notifications-toggle',
          'notifications-panel',
        ),
        toggle('leave', 'Leave', 'leave', 'leave-panel'),
      ),
    );
    const group = room.kind === 'GROUP';
    keepingFocus(this.membersPanel, ['data-testid', 'aria-label'], () =>
      this.membersPanel.replaceChildren(
        h('h3', {}, 'Members'),
        membersView(
          open.members.list(),
          this.me,
          group ? (user) => this.handlers.onMessageMember(user) : null,
          group
            ? {
                myRole,
                openFor: this.moderating,
                onToggle: (userId) => {
                  this.moderating = this.moderating === userId ? null : userId;
                  this.renderRoomHead(state);
                },
                onMute: (user, seconds) => this.handlers.onMute(user, seconds),
                onKick: (user) => this.handlers.onKick(user),
                onBan: (user, seconds) => this.handlers.onBan(user, seconds),
                onSetRole: (user, role) => this.handlers.onSetRole(user, role),
              }
            : null,
        ),
      ),
    );
    if (!canInvite && this.panel === 'invite') this.showPanel(null);
    if (!canSettle && this.panel === 'settings') this.showPanel(null);
    if (this.panel === 'notifications') this.renderNotifications();
  }

  /** The open room's Notifications panel: its level and mute, each press applied at once. */
  private renderNotifications(): void {
    const open = this.openRoom;
    const settings = open?.notifications ?? null;
    const signature = JSON.stringify([open?.id, settings, settings && isMuted(settings)]);
    if (signature === this.notificationsSignature) return;
    this.notificationsSignature = signature;
    const hadFocus = this.notificationsPanel.contains(document.activeElement);
    keepingFocus(this.notificationsPanel, ['data-testid', 'data-level'], () =>
      this.notificationsPanel.replaceChildren(
        ...roomNotificationsView(settings, {
          onLevel: (level) => this.handlers.onSetNotifications(level, settings?.mutedUntil ?? null),
          onMute: (seconds) => this.handlers.onSetNotifications(settings?.level ?? 'MENTIONS', muteUntil(seconds)),
          onUnmute: () => this.handlers.onSetNotifications(settings?.level ?? 'MENTIONS', null),
        }),
      ),
    );
    // A mute replaces its choices with Unmute, and Unmute brings them back: the focus goes along.
    if (hadFocus && !this.notificationsPanel.contains(document.activeElement)) {
      this.notificationsPanel.querySelector<HTMLElement>('[data-testid=notify-unmute], [data-testid=notify-mute]')?.focus();
    }
  }

  private renderTitle(state: ChatState): void {
    const room = state.openEntry();
    this.roomTitle.textContent = state.open ? (room ? state.roomName(room) : '…') : 'Pick or create a room';
    const settings = state.open?.settings;
    this.roomKind.textContent = room
      ? [
          roomKindText(room),
          settings?.slowModeSeconds ? `slow mode: one message per ${remaining(settings.slowModeSeconds)}` : null,
          settings?.frozen ? 'frozen: only moderators post' : null,
        ]
          .filter(Boolean)
          .join(' · ')
      : '';
  }

  /** The open room's pinned messages at its top (hidden when there are none). */
  renderPins(open: OpenRoom | null, canUnpin: boolean, onShow: (message: Message) => void): void {
    const pins = open?.pins ?? [];
    if (pins.length < 2) this.pinsExpanded = false;
    // Rebuilt only when it changed: messages arriving must not replace a button under the pointer.
    const signature = JSON.stringify([
      pins.map((m) => [m.id, m.body, m.pinnedAt, m.author.username]),
      this.pinsExpanded,
      canUnpin,
    ]);
    if (signature === this.pinsSignature) return;
    this.pinsSignature = signature;
    this.pins.hidden = pins.length === 0;
    keepingFocus(this.pins, ['data-testid', 'data-pin-id'], () =>
      this.pins.replaceChildren(
        ...(pins.length
          ? pinsView(pins, this.pinsExpanded, canUnpin, {
              onShow,
              onUnpin: (message) => this.handlers.onUnpin(message),
              onToggle: () => {
                this.pinsExpanded = !this.pinsExpanded;
                this.renderPins(open, canUnpin, onShow);
              },
            })
          : []),
      ),
    );
  }

  /** The thread panel is open: on a wide screen the room makes room for it beside the messages. */
  showThread(open: boolean): void {
    this.roomPane.classList.toggle('thread-open', open);
  }

  renderTyping(open: OpenRoom | null): void {
    this.typing.textContent = typingView(open ? open.typists.names() : []);
  }

  /** Why creating, joining or leaving a room failed; empty clears it. */
  setRoomsNotice(text: string): void {
    this.roomsNotice.textContent = text;
  }

  /** Message search: the panel over the room, with its results (null while they load). */
  showSearch(query: string, results: Message[] | null, roomName: (roomId: string) => string): void {
    const wasHidden = this.searchPanel.hidden;
    this.searchPanel.hidden = false;
    this.searchHeading.textContent = `Search: ${query}`;
    this.searchBody.replaceChildren(...searchResultsView(query, results, roomName, (m) => this.handlers.onOpenResult(m)));
    this.setDrawer(false);
    if (wasHidden) this.searchHeading.focus();
  }

  showSearchError(query: string, text: string): void {
    this.searchHeading.textContent = `Search: ${query}`;
    this.searchBody.replaceChildren(h('p', { class: 'error', role: 'alert' }, text));
  }

  closeSearch(): void {
    if (this.searchPanel.hidden) return;
    this.searchPanel.hidden = true;
    this.searchInput.focus({ preventScroll: true });
    if (this.narrow.matches) this.composer.focus();
  }

  hideSearch(): void {
    this.searchPanel.hidden = true;
  }

  /** Closes the drawer (narrow screens) once a room was chosen. */
  roomChosen(): void {
    this.showPanel(null);
    this.setDrawer(false);
  }

  showPanel(panel: RoomPanel): void {
    this.panel = panel;
    this.membersPanel.hidden = panel !== 'members';
    this.invitePanel.hidden = panel !== 'invite';
    this.leavePanel.hidden = panel !== 'leave';
    this.settingsPanel.hidden = panel !== 'settings';
    this.notificationsPanel.hidden = panel !== 'notifications';
    if (panel !== 'members') this.moderating = null;
    for (const button of this.roomActions.querySelectorAll('button[aria-controls]')) {
      button.setAttribute('aria-expanded', String(button.getAttribute('aria-controls') === `${panel}-panel`));
    }
    if (panel === 'invite') {
      this.invitePanel.replaceChildren(h('h3', {}, 'Invite people'), this.finders.invite.element);
      this.finders.invite.focus();
    } else {
      this.finders.invite.clear();
    }
    if (panel === 'settings') this.renderSettings();
    if (panel === 'notifications') {
      this.notificationsSignature = '';
      this.renderNotifications();
      this.notificationsPanel.querySelector<HTMLElement>('[aria-pressed=true]')?.focus();
    }
    if (panel === 'leave') {
      const members = this.openRoom?.members.list() ?? [];
      const owner = this.openRoom?.viewerRole === 'OWNER' && members.some((m) => m.user.id !== this.me.id);
      this.leavePanel.replaceChildren(
        owner
          ? h(
              'p',
              { 'data-testid': 'leave-owner' },
              'You own this room, so hand the room over first: in Members, choose Moderate beside someone and make them Owner. Then you can leave.',
            )
          : h('p', {}, 'Leave this room? You will stop getting its messages.'),
        h(
          'div',
          { class: 'row' },
          h(
            'button',
            { type: 'button', class: 'danger', 'data-testid': 'confirm-leave', onclick: () => this.handlers.onLeave() },
            'Leave the room',
          ),
          h('button', { type: 'button', class: 'secondary', onclick: () => this.showPanel(null) }, 'Stay'),
        ),
      );
      this.leavePanel.querySelector<HTMLElement>('[data-testid=confirm-leave]')?.focus();
    }
    if (panel === 'members') this.handlers.onShowMembers();
  }

  /** The room's settings for an ADMIN and above: slow mode and freezing (updateRoom). */
  private renderSettings(): void {
    const current = this.openRoom?.settings ?? { slowModeSeconds: 0, frozen: false };
    const choices = SLOW_MODE_CHOICES.some(([seconds]) => seconds === current.slowModeSeconds)
      ? SLOW_MODE_CHOICES
      : [...SLOW_MODE_CHOICES, [current.slowModeSeconds, remaining(current.slowModeSeconds)] as [number, string]];
    const slow = h(
      'select',
      { id: 'slow-mode', 'data-testid': 'slow-mode' },
      ...choices.map(([seconds, label]) =>
        h('option', { value: String(seconds), selected: seconds === current.slowModeSeconds }, label),
      ),
    ) as HTMLSelectElement;
    const frozen = h('input', {
      id: 'frozen',
      type: 'checkbox',
      'data-testid': 'frozen',
      checked: current.frozen,
    }) as HTMLInputElement;
    this.settingsPanel.replaceChildren(
      h(
        'form',
        {
          class: 'settings',
          onsubmit: (event: Event) => {
            event.preventDefault();
            this.handlers.onSaveSettings({ slowModeSeconds: Number(slow.value), frozen: frozen.checked });
            this.showPanel(null);
          },
        },
        h('h3', {}, 'Room settings'),
        h('label', { for: 'slow-mode' }, 'Slow mode: members send at most one message per'),
        slow,
        h('div', { class: 'check' }, frozen, h('label', { for: 'frozen' }, 'Frozen: only moderators can post, react or type')),
        h(
          'div',
          { class: 'row' },
          h('button', { type: 'submit', 'data-testid': 'save-settings' }, 'Save'),
          h('button', { type: 'button', class: 'secondary', onclick: () => this.showPanel(null) }, 'Cancel'),
        ),
      ),
    );
    slow.focus();
  }

  /** Says something about the room pane that is not about one room's messages (removed by a moderator). */
  showRoomNotice(text: string): void {
    this.messages.notice.textContent = text;
  }

  private togglePanel(panel: Exclude<RoomPanel, null>): void {
    this.showPanel(this.panel === panel ? null : panel);
  }

  /** Opens or closes the room list's drawer; on wide screens the list is always there and this does nothing visible. */
  private setDrawer(open: boolean): void {
    const modal = this.narrow.matches;
    this.drawerOpen = open && modal;
    this.element?.classList.toggle('drawer-open', this.drawerOpen);
    this.menuButton.setAttribute('aria-expanded', String(this.drawerOpen));
    // Closed on a narrow screen, the drawer is off screen: out of the tab order and of screen readers too.
    if (modal && !this.drawerOpen) this.drawer.setAttribute('inert', '');
    else this.drawer.removeAttribute('inert');
    // Focus goes to the open room's entry (or the first), not to a field: no on-screen keyboard pops up.
    if (this.drawerOpen) {
      const target =
        this.drawer.querySelector<HTMLElement>('.room-link[aria-current]') ??
        this.drawer.querySelector<HTMLElement>('.room-link, input');
      target?.focus();
    }
  }
}

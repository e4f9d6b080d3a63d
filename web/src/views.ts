import type { RoomFieldsFragment, RoomRole, UserFieldsFragment } from '../../client/index.js';
import { h } from './dom.js';
import { assignableRoles, BAN_CHOICES, MUTE_CHOICES, outranks, roleLabel } from './moderation.js';
import { excerpt, fullDate, shortTime, textOf } from './text.js';
import type { Message } from './timeline.js';

export type ConnectionStatus = 'connecting' | 'online' | 'reconnecting';

const STATUS_TEXT: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  online: 'Live',
  reconnecting: 'Reconnecting…',
};

export function statusText(status: ConnectionStatus): string {
  return STATUS_TEXT[status];
}

/** How a room's kind reads in words beside its name. */
export function roomKindText(room: Pick<RoomFieldsFragment, 'kind' | 'visibility'>): string {
  if (room.kind === 'DIRECT') return 'Direct message';
  return room.visibility === 'PRIVATE' ? 'Private room' : 'Public room';
}

export function roomItems(
  rooms: RoomFieldsFragment[],
  openRoomId: string | null,
  nameOf: (room: RoomFieldsFragment) => string,
  onOpen: (roomId: string) => void,
): HTMLElement[] {
  return rooms.map((room) => {
    const name = nameOf(room);
    const open = room.id === openRoomId;
    const unread = room.unreadCount;
    const mentions = room.unreadMentionCount;
    return h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: open ? 'room-link open' : 'room-link',
          'aria-current': open ? 'page' : undefined,
          'data-testid': 'room-item',
          'data-room-id': room.id,
          'data-room-name': name,
          'data-kind': room.kind,
          onclick: () => onOpen(room.id),
        },
        h('span', { class: 'name' }, room.kind === 'DIRECT' ? `@${name}` : name),
        room.kind === 'GROUP' && room.visibility === 'PRIVATE' ? h('span', { class: 'tag' }, 'private') : null,
        room.kind === 'DIRECT' ? h('span', { class: 'visually-hidden' }, ', direct message') : null,
        // The badges show the numbers; a screen reader hears them as words.
        mentions > 0
          ? h(
              'span',
              { class: 'mention-badge', 'data-testid': 'mentions', 'aria-hidden': 'true', title: 'Unread mentions of you' },
              `@${mentions}`,
            )
          : null,
        mentions > 0 ? h('span', { class: 'visually-hidden' }, `, ${mentions} unread mentioning you`) : null,
        unread > 0 ? h('span', { class: 'unread', 'data-testid': 'unread', 'aria-hidden': 'true' }, String(unread)) : null,
        unread > 0 ? h('span', { class: 'visually-hidden' }, `, ${unread} unread`) : null,
      ),
    );
  });
}

export function publicRoomItems(rooms: RoomFieldsFragment[], mine: Set<string>, onJoin: (roomId: string) => void): HTMLElement[] {
  const others = rooms.filter((room) => !mine.has(room.id));
  if (others.length === 0) return [h('li', { class: 'hint' }, 'No other public rooms.')];
  return others.map((room) =>
    h(
      'li',
      { class: 'row', 'data-testid': 'public-room', 'data-room-name': room.name ?? '' },
      h('span', { class: 'name' }, room.name ?? ''),
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-testid': 'join-room',
          'data-room-name': room.name ?? '',
          'aria-label': `Join ${room.name ?? 'the room'}`,
          onclick: () => onJoin(room.id),
        },
        'Join',
      ),
    ),
  );
}

export interface Member {
  user: UserFieldsFragment;
  role: string;
  /** When their mute ends; null when not muted. */
  mutedUntil?: string | null;
}

/** What a moderator may do to members from the members panel (kick, mute, ban, role), on those they outrank. */
export interface MemberModeration {
  myRole: string | null;
  /** The user id whose actions are shown, if any. */
  openFor: string | null;
  onToggle(userId: string): void;
  onMute(user: UserFieldsFragment, seconds: number): void;
  onKick(user: UserFieldsFragment): void;
  /** seconds null: until lifted. */
  onBan(user: UserFieldsFragment, seconds: number | null): void;
  onSetRole(user: UserFieldsFragment, role: RoomRole): void;
}

const isMuted = (m: Member) => m.mutedUntil != null && Date.parse(m.mutedUntil) > Date.now();

const choice = (id: string, label: string, testid: string, choices: Array<[number | string, string]>) => {
  const select = h(
    'select',
    { id, 'data-testid': testid },
    ...choices.map(([value, text]) => h('option', { value: String(value) }, text)),
  ) as HTMLSelectElement;
  return { select, label: h('label', { for: id }, label) };
};

const ROLE_NAMES: Record<RoomRole, string> = { OWNER: 'Owner', ADMIN: 'Admin', MODERATOR: 'Moderator', MEMBER: 'Member' };

/** The actions a moderator has on one member they outrank: mute (or unmute), kick, ban, and a new role where theirs allows. */
function moderateView(member: Member, moderation: MemberModeration): HTMLElement {
  const { user } = member;
  const key = user.id;
  const mute = choice(`mute-${key}`, 'Mute for', 'mute-duration', MUTE_CHOICES);
  const ban = choice(`ban-${key}`, 'Ban for', 'ban-duration', BAN_CHOICES);
  const roles = assignableRoles(moderation.myRole).filter((role) => role !== member.role);
  const role = choice(
    `role-${key}`,
    'New role',
    'role-choice',
    roles.map((r) => [r, ROLE_NAMES[r]]),
  );
  const button = (label: string, testid: string, onclick: () => void, danger = false) =>
    h('button', { type: 'button', class: danger ? 'danger' : 'secondary', 'data-testid': testid, onclick }, label);
  return h(
    'div',
    {
      id: `moderate-${key}`,
      class: 'moderate',
      role: 'group',
      'aria-label': `Moderate ${user.username}`,
      'data-testid': 'moderate',
    },
    h(
      'div',
      { class: 'row' },
      mute.label,
      mute.select,
      button('Mute', 'mute', () => moderation.onMute(user, Number(mute.select.value))),
      isMuted(member) ? button('Unmute', 'unmute', () => moderation.onMute(user, 0)) : null,
    ),
    h(
      'div',
      { class: 'row' },
      ban.label,
      ban.select,
      button('Ban', 'ban', () => moderation.onBan(user, Number(ban.select.value) || null), true),
      button('Kick', 'kick', () => moderation.onKick(user), true),
    ),
    roles.length
      ? h(
          'div',
          { class: 'row' },
          role.label,
          role.select,
          button('Set role', 'set-role', () => moderation.onSetRole(user, role.select.value as RoomRole)),
        )
      : null,
  );
}

/**
 * The room's members, online first, each with their presence and role in
 * words (a badge for Owner, Admin and Moderator, "muted" while muted), a way
 * to message them directly, and, for a moderator, actions on those they outrank.
 */
export function membersView(
  members: Member[],
  me: UserFieldsFragment,
  onMessage: ((user: UserFieldsFragment) => void) | null,
  moderation: MemberModeration | null = null,
): HTMLElement {
  const sorted = [...members].sort(
    (a, b) => Number(b.user.online) - Number(a.user.online) || a.user.username.localeCompare(b.user.username),
  );
  const online = sorted.filter((m) => m.user.online).length;
  return h(
    'div',
    {},
    h(
      'p',
      { class: 'hint', 'data-testid': 'members-summary' },
      `${members.length} member${members.length === 1 ? '' : 's'}, ${online} online`,
    ),
    h(
      'ul',
      { class: 'members', 'data-testid': 'members' },
      ...sorted.map((m) =>
        h(
          'li',
          { class: 'member', 'data-testid': 'member', 'data-username': m.user.username, 'data-online': String(m.user.online) },
          h('span', { class: m.user.online ? 'dot online' : 'dot', 'aria-hidden': 'true' }),
          h('span', { class: 'name' }, m.user.id === me.id ? `${m.user.username} (you)` : m.user.username),
          h('span', { class: 'presence', 'data-testid': 'presence' }, m.user.online ? 'online' : 'offline'),
          roleLabel(m.role)
            ? h('span', { class: `tag role ${m.role.toLowerCase()}`, 'data-testid': 'role-badge' }, roleLabel(m.role))
            : null,
          isMuted(m) ? h('span', { class: 'tag muted', 'data-testid': 'muted-badge' }, 'muted') : null,
          onMessage && m.user.id !== me.id
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'data-testid': 'message-member',
                  'aria-label': `Message ${m.user.username} directly`,
                  onclick: () => onMessage(m.user),
                },
                'Message',
              )
            : null,
          moderation && m.user.id !== me.id && outranks(moderation.myRole, m.role)
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'data-testid': 'moderate-toggle',
                  'aria-expanded': String(moderation.openFor === m.user.id),
                  'aria-controls': `moderate-${m.user.id}`,
                  'aria-label': `Moderate ${m.user.username}`,
                  onclick: () => moderation.onToggle(m.user.id),
                },
                'Moderate',
              )
            : null,
          moderation?.openFor === m.user.id && outranks(moderation.myRole, m.role) ? moderateView(m, moderation) : null,
        ),
      ),
    ),
  );
}

/** Message search results: where, who, when and what, each opening its room at the message. */
export function searchResultsView(
  query: string,
  results: Message[] | null,
  roomName: (roomId: string) => string,
  onOpen: (message: Message) => void,
): HTMLElement[] {
  if (results === null) return [h('p', { class: 'hint' }, `Searching for “${query}”…`)];
  if (results.length === 0) return [h('p', { class: 'hint', 'data-testid': 'search-empty' }, `No message matches “${query}”.`)];
  return [
    h('p', { class: 'hint' }, `${results.length} message${results.length === 1 ? ' matches' : 's match'} “${query}”.`),
    h(
      'ul',
      { class: 'search-results', 'data-testid': 'search-results' },
      ...results.map((message) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'search-result',
              'data-testid': 'search-result',
              'data-room-id': message.roomId,
              'data-seq': message.seq,
              onclick: () => onOpen(message),
            },
            h(
              'span',
              { class: 'meta' },
              h('strong', {}, roomName(message.roomId)),
              ' · ',
              message.author.username,
              ' · ',
              h(
                'time',
                { datetime: message.createdAt, title: fullDate(message.createdAt) },
                `${new Date(message.createdAt).toLocaleDateString()} ${shortTime(message.createdAt)}`,
              ),
            ),
            h('span', { class: 'snippet', dir: 'auto' }, excerpt(textOf(message.body), 140)),
          ),
        ),
      ),
    ),
  ];
}

export function typingView(names: string[]): string {
  return names.length === 0
    ? ''
    : names.length === 1
      ? `${names[0]} is typing…`
      : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
}

export interface PinActions {
  /** Shows a pinned message where it is: in the timeline, or in its thread. */
  onShow(message: Message): void;
  onUnpin(message: Message): void;
  onToggle(): void;
}

/**
 * The open room's pinned messages, newest pin first: the newest shown, the
 * others behind "Show all"; each opens where it is, and those allowed to
 * unpin have an Unpin button beside it.
 */
export function pinsView(pins: readonly Message[], expanded: boolean, canUnpin: boolean, actions: PinActions): HTMLElement[] {
  const shown = expanded ? pins : pins.slice(0, 1);
  return [
    h(
      'div',
      { class: 'pins-head' },
      h('h3', { id: 'pins-heading' }, `Pinned (${pins.length})`),
      pins.length > 1
        ? h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              'data-testid': 'pins-toggle',
              'aria-expanded': String(expanded),
              'aria-controls': 'pins-list',
              onclick: () => actions.onToggle(),
            },
            expanded ? 'Show fewer' : `Show all ${pins.length}`,
          )
        : null,
    ),
    h(
      'ul',
      { id: 'pins-list', class: 'pins-list' },
      ...shown.map((message) =>
        h(
          'li',
          { class: 'pin', 'data-testid': 'pin', 'data-id': message.id },
          h(
            'button',
            {
              type: 'button',
              class: 'pin-item',
              'data-testid': 'pinned-message',
              'data-pin-id': message.id,
              title: message.pinnedBy ? `Pinned by ${message.pinnedBy.username}` : 'Pinned',
              onclick: () => actions.onShow(message),
            },
            h('strong', {}, message.author.username),
            ': ',
            h('span', { dir: 'auto' }, excerpt(textOf(message.body), 120)),
          ),
          canUnpin
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'data-testid': 'unpin-pinned',
                  'data-pin-id': message.id,
                  'aria-label': `Unpin ${message.author.username}’s message`,
                  onclick: () => actions.onUnpin(message),
                },
                'Unpin',
              )
            : null,
        ),
      ),
    ),
  ];
}

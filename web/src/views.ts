import type { RoomFieldsFragment, UserFieldsFragment } from '../../client/index.js';
import { h } from './dom.js';
import type { OutgoingMessage } from './outbox.js';
import type { Message } from './timeline.js';

export type ConnectionStatus = 'connecting' | 'online' | 'reconnecting';

const STATUS_TEXT: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  online: 'Live',
  reconnecting: 'Reconnecting…',
};

export function headerView(me: UserFieldsFragment, status: ConnectionStatus, onSignOut: () => void): HTMLElement {
  return h(
    'header',
    { class: 'top' },
    h('strong', {}, 'Chat'),
    h('span', { class: `status ${status}`, 'data-testid': 'status', 'data-status': status }, STATUS_TEXT[status]),
    h('span', { class: 'me', 'data-testid': 'me' }, me.username),
    h('button', { class: 'secondary', onclick: onSignOut, 'data-testid': 'sign-out' }, 'Sign out'),
  );
}

export function roomItems(
  rooms: RoomFieldsFragment[],
  openRoomId: string | null,
  onOpen: (roomId: string) => void,
): HTMLElement[] {
  return rooms.map((room) =>
    h(
      'li',
      {},
      h(
        'button',
        {
          class: room.id === openRoomId ? 'room-link open' : 'room-link',
          'data-testid': 'room-item',
          'data-room-id': room.id,
          'data-room-name': room.name ?? '',
          onclick: () => onOpen(room.id),
        },
        h('span', { class: 'name' }, room.name ?? 'Direct'),
        room.unreadCount > 0 ? h('span', { class: 'unread', 'data-testid': 'unread' }, String(room.unreadCount)) : null,
      ),
    ),
  );
}

export function publicRoomItems(rooms: RoomFieldsFragment[], mine: Set<string>, onJoin: (roomId: string) => void): HTMLElement[] {
  return rooms
    .filter((room) => !mine.has(room.id))
    .map((room) =>
      h(
        'li',
        { class: 'row' },
        h('span', { class: 'name' }, room.name ?? ''),
        h(
          'button',
          { class: 'secondary', 'data-testid': 'join-room', 'data-room-name': room.name ?? '', onclick: () => onJoin(room.id) },
          'Join',
        ),
      ),
    );
}

/** A one-field form whose submit hands over the trimmed value (and clears it). */
export function fieldForm(options: {
  placeholder: string;
  button: string;
  testid: string;
  type?: string;
  onSubmit(value: string): void;
}): HTMLElement {
  const input = h('input', {
    placeholder: options.placeholder,
    type: options.type,
    maxlength: 100,
    'data-testid': `${options.testid}-input`,
  }) as HTMLInputElement;
  return h(
    'form',
    {
      class: 'row',
      onsubmit: (event: Event) => {
        event.preventDefault();
        options.onSubmit(input.value.trim());
        if (!options.type) input.value = '';
      },
    },
    input,
    h('button', { type: 'submit', class: 'secondary', 'data-testid': options.testid }, options.button),
  );
}

export interface Member {
  user: UserFieldsFragment;
  role: string;
}

export function membersView(members: Member[]): HTMLElement {
  const sorted = [...members].sort(
    (a, b) => Number(b.user.online) - Number(a.user.online) || a.user.username.localeCompare(b.user.username),
  );
  return h(
    'ul',
    { class: 'members', 'data-testid': 'members' },
    ...sorted.map((m) =>
      h(
        'li',
        { 'data-testid': 'member', 'data-username': m.user.username, 'data-online': String(m.user.online) },
        h('span', { class: m.user.online ? 'dot online' : 'dot', title: m.user.online ? 'online' : 'offline' }),
        m.user.username,
      ),
    ),
  );
}

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function messageView(message: Message, me: UserFieldsFragment): HTMLElement {
  return h(
    'li',
    {
      class: message.author.id === me.id ? 'message mine' : 'message',
      'data-testid': 'message',
      'data-seq': message.seq,
      'data-state': 'stored',
    },
    h('span', { class: 'author' }, message.author.username),
    h('time', { datetime: message.createdAt }, time(message.createdAt)),
    message.deletedAt ? h('em', { class: 'body deleted' }, 'deleted') : h('span', { class: 'body' }, message.body),
    message.editedAt && !message.deletedAt ? h('span', { class: 'edited' }, '(edited)') : null,
  );
}

export function outgoingView(
  message: OutgoingMessage,
  me: UserFieldsFragment,
  onRetry: () => void,
  onDiscard: () => void,
): HTMLElement {
  const note =
    message.state === 'sending' ? 'sending…' : message.state === 'retrying' ? `${message.error ?? 'retrying'}…` : message.error;
  return h(
    'li',
    {
      class: `message mine outgoing ${message.state}`,
      'data-testid': 'message',
      'data-state': message.state,
      'data-client-id': message.clientId,
    },
    h('span', { class: 'author' }, me.username),
    h('span', { class: 'body' }, message.body),
    h('span', { class: 'note', 'data-testid': 'outgoing-note' }, note ?? ''),
    message.state === 'failed'
      ? h(
          'span',
          {},
          h('button', { class: 'link', onclick: onRetry, 'data-testid': 'retry' }, 'Retry'),
          h('button', { class: 'link', onclick: onDiscard }, 'Discard'),
        )
      : null,
  );
}

export function typingView(names: string[]): HTMLElement {
  const text =
    names.length === 0
      ? ''
      : names.length === 1
        ? `${names[0]} is typing…`
        : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
  return h('p', { class: 'typing', 'data-testid': 'typing', 'aria-live': 'polite' }, text);
}

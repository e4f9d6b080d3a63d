import DataLoader from 'dataloader';
import type { TokenIssuer } from './auth/tokens.js';
import { bearerToken } from './auth/tokens.js';
import type { Viewer } from './auth/viewer.js';
import type { MembershipRow, MessageRow, RoomRow, UserRow } from './db/schema.js';
import type { EventsService } from './features/events/events.service.js';
import type { MessagesService, ReactionGroup } from './features/messages/messages.service.js';
import type { ReactionsService } from './features/reactions/reactions.service.js';
import type { ReadStateService } from './features/read-state/read-state.service.js';
import type { ReadState } from './features/read-state/read-state.store.js';
import type { RoomsService } from './features/rooms/rooms.service.js';
import type { SearchService } from './features/search/search.service.js';
import type { TypingService } from './features/typing/typing.service.js';
import type { UsersService } from './features/users/users.service.js';

export interface Services {
  users: UsersService;
  rooms: RoomsService;
  messages: MessagesService;
  reactions: ReactionsService;
  events: EventsService;
  typing: TypingService;
  readState: ReadStateService;
  search: SearchService;
  tokens: TokenIssuer;
}

/**
 * Batching loaders, one set per operation. A subscription's context lives as
 * long as the subscription, so loaders of things that change (a room's last
 * message, its members, presence) batch without caching.
 */
export interface Loaders {
  user: DataLoader<string, UserRow | null>;
  room: DataLoader<string, RoomRow | null>;
  message: DataLoader<string, MessageRow | null>;
  lastMessage: DataLoader<string, MessageRow | null>;
  members: DataLoader<string, MembershipRow[]>;
  online: DataLoader<string, boolean>;
  /** Message.reactions by message id. */
  reactions: DataLoader<string, ReactionGroup[]>;
  /** The viewer's read state (Room.lastReadSeq, Room.unreadCount) by room id. */
  readState: DataLoader<string, ReadState>;
}

export interface Context {
  viewer: Viewer | null;
  services: Services;
  loaders: Loaders;
}

const byId = <T extends { id: string }>(ids: readonly string[], rows: T[]) => {
  const map = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => map.get(id) ?? null);
};

export function createLoaders(services: Services, viewer: Viewer | null = null): Loaders {
  const { users, rooms, messages, reactions, readState } = services;
  return {
    user: new DataLoader((ids) => users.findByIds(ids)),
    room: new DataLoader(async (ids) => byId(ids, await rooms.findByIds(ids))),
    message: new DataLoader(async (ids) => byId(ids, await messages.findByIds(ids))),
    // History is for members: a PUBLIC room seen from outside shows no last message.
    lastMessage: new DataLoader(
      async (roomIds) => {
        const [last, mine] = await Promise.all([
          messages.lastOf(roomIds),
          viewer ? rooms.existingMemberships(roomIds, [viewer.userId]) : Promise.resolve([]),
        ]);
        const member = new Set(mine.map((m) => m.roomId));
        const map = new Map(last.filter((m) => member.has(m.roomId)).map((m) => [m.roomId, m]));
        return roomIds.map((id) => map.get(id) ?? null);
      },
      { cache: false },
    ),
    members: new DataLoader(
      async (roomIds) => {
        const rows = await rooms.membersOf(roomIds);
        return roomIds.map((id) => rows.filter((row) => row.roomId === id));
      },
      { cache: false },
    ),
    online: new DataLoader((userIds) => users.presence.isOnline(userIds), { cache: false }),
    reactions: new DataLoader(
      async (messageIds) => {
        const groups = await reactions.groupsOf(messageIds);
        return messageIds.map((id) => groups.get(id) ?? []);
      },
      { cache: false },
    ),
    readState: new DataLoader((roomIds) => readState.of(viewer, roomIds), { cache: false }),
  };
}

/** What yoga hands the context factory: an HTTP request, or (over WebSocket) what onConnect stored. */
export interface InitialContext {
  request?: Request;
  extra?: { viewer?: Viewer | null };
}

/** One context for both transports: the viewer comes from the header or the socket's connection_init. */
export function createContextFactory(services: Services) {
  return async (initial: InitialContext): Promise<Context> => {
    let viewer: Viewer | null = null;
    if (initial.extra && 'viewer' in initial.extra) {
      viewer = initial.extra.viewer ?? null;
    } else {
      const token = bearerToken(initial.request?.headers.get('authorization'));
      const verified = token ? await services.tokens.verify(token) : null;
      viewer = verified ? { userId: verified.userId } : null;
    }
    return { viewer, services, loaders: createLoaders(services, viewer) };
  };
}

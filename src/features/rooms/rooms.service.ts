import type { Viewer } from '../../auth/viewer.js';
import { isForeignKeyViolation } from '../../db/errors.js';
import type { MembershipRow, RoomRow, RoomVisibility } from '../../db/schema.js';
import { badInput, forbidden, notFound } from '../../errors.js';
import type { Hooks } from '../../realtime/hooks.js';
import type { Publisher } from '../../realtime/publisher.js';
import { codePoints, isId, requireCount, requireId, requireLength, requireWellFormed } from '../../validation.js';
import type { UsersService } from '../users/users.service.js';
import type { RoomsStore } from './rooms.store.js';

export interface RoomsServiceDeps {
  store: RoomsStore;
  users: UsersService;
  publish: Publisher;
  /** `memberLeft` is emitted here, so this instance's streams stop before the mutation returns. */
  hooks: Hooks;
}

/** publicRooms returns at most this many, whatever `first` asks. */
export const MAX_PUBLIC_ROOMS = 200;

export class RoomsService {
  constructor(private readonly deps: RoomsServiceDeps) {}

  private get store() {
    return this.deps.store;
  }

  async create(viewer: Viewer, name: string, visibility: RoomVisibility): Promise<RoomRow> {
    requireLength('name', name, 1, 100);
    const room = await this.store.createGroup(name, visibility, viewer.userId);
    this.deps.publish.user(viewer.userId, { type: 'room-added', roomId: room.id, afterSeq: 0 });
    return room;
  }

  /** Announces a new member to the room and the room to the member. */
  private added(room: RoomRow, userId: string): void {
    this.deps.publish.room(room.id, { type: 'member', change: 'JOINED', userId });
    this.deps.publish.user(userId, { type: 'room-added', roomId: room.id, afterSeq: room.lastSeq });
  }

  /** NOT_FOUND for a room that does not exist, FORBIDDEN for one the viewer is not a member of. */
  async requireMembership(viewer: Viewer, roomId: string): Promise<{ room: RoomRow; membership: MembershipRow }> {
    const found = await this.store.roomWithMembership(requireId(roomId, 'Room'), viewer.userId);
    if (!found) throw notFound('Room');
    if (!found.membership) throw forbidden('You are not a member of this room');
    return { room: found.room, membership: found.membership };
  }

  async requireRoom(roomId: string): Promise<RoomRow> {
    const room = await this.store.findById(requireId(roomId, 'Room'));
    if (!room) throw notFound('Room');
    return room;
  }

  /** A room the viewer may see: a member of it, or a PUBLIC one; null otherwise. */
  async visible(viewer: Viewer, roomId: string): Promise<RoomRow | null> {
    if (!isId(roomId)) return null;
    const id = roomId.toLowerCase();
    const [room, membership] = await Promise.all([this.store.findById(id), this.store.membership(id, viewer.userId)]);
    return room && (membership || room.visibility === 'PUBLIC') ? room : null;
  }

  async join(viewer: Viewer, roomId: string): Promise<RoomRow> {
    const room = await this.requireRoom(roomId);
    if (await this.store.membership(room.id, viewer.userId)) return room;
    if (room.visibility !== 'PUBLIC') throw forbidden('This room is private: ask its owner for an invitation');
    const outcome = await this.store.addMember(room.id, viewer.userId, 'MEMBER');
    if (outcome === 'missing') throw notFound('Room');
    if (outcome === 'added') this.added(room, viewer.userId);
    return room;
  }

  async leave(viewer: Viewer, roomId: string): Promise<boolean> {
    const room = await this.requireRoom(roomId);
    const left = await this.store.removeMember(room.id, viewer.userId);
    if (!left) throw forbidden('You are not a member of this room');
    this.deps.hooks.emit('memberLeft', { roomId: room.id, userId: viewer.userId });
    // Other instances stop the leaver's streams on this event: awaited (briefly)
    // so it reaches Redis before anything the client does next. Should Redis be
    // down, their feeds notice on their next membership poll instead.
    await this.deps.publish.roomAwaited(room.id, { type: 'member', change: 'LEFT', userId: viewer.userId });
    this.deps.publish.user(viewer.userId, { type: 'room-removed', roomId: room.id });
    return true;
  }

  async openDirect(viewer: Viewer, userId: string): Promise<RoomRow> {
    const otherId = requireId(userId, 'User');
    if (otherId === viewer.userId) throw badInput('A direct room needs another user', 'userId');
    if (!(await this.deps.users.findById(otherId))) throw notFound('User');
    try {
      const { room, added } = await this.store.getOrCreateDirect(viewer.userId, otherId);
      for (const userId of added) this.added(room, userId);
      return room;
    } catch (error) {
      if (isForeignKeyViolation(error)) throw notFound('User');
      throw error;
    }
  }

  async invite(viewer: Viewer, roomId: string, userId: string): Promise<RoomRow> {
    const { room, membership } = await this.requireMembership(viewer, roomId);
    if (room.kind !== 'GROUP') throw badInput('Only GROUP rooms take invitations', 'roomId');
    if (room.visibility === 'PRIVATE' && membership.role !== 'OWNER') {
      throw forbidden('Only the owner can invite to a private room');
    }
    const invitee = await this.deps.users.findById(requireId(userId, 'User'));
    if (!invitee) throw notFound('User');
    const outcome = await this.store.addMember(room.id, invitee.id, 'MEMBER');
    if (outcome === 'missing') throw notFound('Room');
    if (outcome === 'added') this.added(room, invitee.id);
    return room;
  }

  /** MemberChanged ONLINE/OFFLINE to every room of the user, once per transition (presence decides when). */
  async announcePresence(userId: string, online: boolean): Promise<void> {
    const change = online ? 'ONLINE' : 'OFFLINE';
    for (const room of await this.store.roomsOfUser(userId)) this.deps.publish.room(room.id, { type: 'member', change, userId });
  }

  findByIds(ids: readonly string[]) {
    return this.store.findByIds(ids);
  }

  existingMemberships(roomIds: readonly string[], userIds: readonly string[]) {
    return this.store.existingMemberships(roomIds, userIds);
  }

  membersOf(roomIds: readonly string[]) {
    return this.store.membersOf(roomIds);
  }

  /** Each room's newest committed seq (live feeds compare theirs with it). */
  heads(roomIds: readonly string[]) {
    return this.store.heads(roomIds);
  }

  /** Which (room, user) pairs are not memberships now (live feeds end those subscribers). */
  notMembers(pairs: ReadonlyArray<{ roomId: string; userId: string }>) {
    return this.store.notMembers(pairs);
  }

  myRooms(viewer: Viewer): Promise<RoomRow[]> {
    return this.store.roomsOfUser(viewer.userId);
  }

  async publicRooms(query: string | null | undefined, first: number | null | undefined): Promise<RoomRow[]> {
    const limit = first ?? 50;
    requireCount('first', limit, Number.MAX_SAFE_INTEGER);
    if (query) requireWellFormed('query', query);
    // No name is longer than 100 characters or holds NUL: such a query matches nothing.
    if (query && (codePoints(query) > 100 || query.includes('\u0000'))) return [];
    // Large pages are cut rather than refused: the contract sets no limit here.
    return this.store.publicRooms(query || null, Math.min(limit, MAX_PUBLIC_ROOMS));
  }
}

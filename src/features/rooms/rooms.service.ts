import type { Viewer } from '../../auth/viewer.js';
import type { Clock } from '../../clock.js';
import { isForeignKeyViolation } from '../../db/errors.js';
import type { MembershipRow, RoomRow, RoomVisibility } from '../../db/schema.js';
import { badInput, forbidden, notFound } from '../../errors.js';
import type { Hooks } from '../../realtime/hooks.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { RemovedReason } from '../../realtime/topics.js';
import { codePoints, isId, requireCount, requireId, requireLength, requireWellFormed } from '../../validation.js';
import type { BlockingService } from '../blocking/blocking.service.js';
import type { UsersService } from '../users/users.service.js';
import type { AddOutcome, RoomsStore } from './rooms.store.js';

export interface RoomsServiceDeps {
  store: RoomsStore;
  users: UsersService;
  publish: Publisher;
  /** `memberLeft` is emitted here, so this instance's streams stop before the mutation returns. */
  hooks: Hooks;
  blocking: BlockingService;
  /** What bans are judged by. */
  clock: Clock;
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

  /** The user's membership of the room; null when none. */
  membership(roomId: string, userId: string): Promise<MembershipRow | null> {
    return this.store.membership(roomId, userId);
  }

  async requireRoom(roomId: string): Promise<RoomRow> {
    const room = await this.store.findById(requireId(roomId, 'Room'));
    if (!room) throw notFound('Room');
    return room;
  }

  /**
   * A room the viewer may see: a member of it, or a PUBLIC one they are not
   * banned from; null otherwise.
   */
  async visible(viewer: Viewer, roomId: string): Promise<RoomRow | null> {
    if (!isId(roomId)) return null;
    const id = roomId.toLowerCase();
    const [room, membership] = await Promise.all([this.store.findById(id), this.store.membership(id, viewer.userId)]);
    if (!room) return null;
    if (membership) return room;
    return room.visibility === 'PUBLIC' && !(await this.store.banned(room.id, viewer.userId, this.deps.clock.now()))
      ? room
      : null;
  }

  async join(viewer: Viewer, roomId: string): Promise<RoomRow> {
    const room = await this.requireRoom(roomId);
    if (await this.store.membership(room.id, viewer.userId)) return room;
    if (room.visibility !== 'PUBLIC') throw forbidden('This room is private: ask its owner for an invitation');
    await this.add(room, viewer.userId, 'You are banned from this room');
    return room;
  }

  /** Adds a user as a MEMBER and announces it; BANNED while a ban of theirs lasts. */
  private async add(room: RoomRow, userId: string, bannedMessage: string): Promise<AddOutcome> {
    const outcome = await this.store.addMember(room.id, userId, 'MEMBER', this.deps.clock.now());
    if (outcome === 'missing') throw notFound('Room');
    if (outcome === 'banned') throw forbidden(bannedMessage, 'BANNED');
    if (outcome === 'added') this.added(room, userId);
    return outcome;
  }

  async leave(viewer: Viewer, roomId: string): Promise<boolean> {
    const room = await this.requireRoom(roomId);
    const outcome = await this.store.leave(room.id, viewer.userId);
    if (outcome === 'not-member') throw forbidden('You are not a member of this room');
    if (outcome === 'owner-with-members') {
      throw forbidden('The OWNER leaves last: hand the room over first (setMemberRole with role OWNER)');
    }
    await this.removed(room.id, viewer.userId, 'LEFT');
    return true;
  }

  /**
   * After a membership ended (left, kicked, banned): the user's streams of
   * the room end at once on this instance (the `memberLeft` hook) and on the
   * others (the room's LEFT event, which the room's members also get), and
   * their myEvents hears RoomRemoved with the reason. The LEFT event is
   * awaited (briefly) so it reaches Redis before anything the caller does
   * next; should Redis be down, other instances' feeds notice at their next
   * membership poll instead.
   */
  async removed(roomId: string, userId: string, reason: RemovedReason): Promise<void> {
    this.deps.hooks.emit('memberLeft', { roomId, userId });
    await this.deps.publish.roomAwaited(roomId, { type: 'member', change: 'LEFT', userId });
    this.deps.publish.user(userId, { type: 'room-removed', roomId, reason });
  }

  async openDirect(viewer: Viewer, userId: string): Promise<RoomRow> {
    const otherId = requireId(userId, 'User');
    if (otherId === viewer.userId) throw badInput('A direct room needs another user', 'userId');
    if (!(await this.deps.users.findById(otherId))) throw notFound('User');
    await this.deps.blocking.requireNotBlocked(viewer.userId, otherId);
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
    if (invitee.id !== viewer.userId) await this.deps.blocking.requireNotBlocked(viewer.userId, invitee.id);
    await this.add(room, invitee.id, 'That user is banned from this room');
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

  /** The viewer's membership of each room, in the order asked (null where none). */
  async viewerMemberships(viewer: Viewer | null, roomIds: readonly string[]): Promise<Array<MembershipRow | null>> {
    const rows = viewer ? await this.store.membershipsOfUser(viewer.userId, [...new Set(roomIds)]) : [];
    const byRoom = new Map(rows.map((row) => [row.roomId, row]));
    return roomIds.map((id) => byRoom.get(id) ?? null);
  }

  membersOf(roomIds: readonly string[]) {
    return this.store.membersOf(roomIds);
  }

  /** Each room's newest committed seq (live feeds compare theirs with it). */
  heads(roomIds: readonly string[]) {
    return this.store.heads(roomIds);
  }

  /** Which of these users moderate the room now (live feeds deliver moderators-only events to those). */
  moderatorsAmong(roomId: string, userIds: readonly string[]) {
    return this.store.moderatorsAmong(roomId, userIds);
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

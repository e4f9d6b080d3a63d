import type { Viewer } from '../../auth/viewer.js';
import type { Clock } from '../../clock.js';
import type { ModerationConfig } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { MembershipRow, ModerationActionRow, RoomBanRow, RoomRole, RoomRow } from '../../db/schema.js';
import { badInput, notFound } from '../../errors.js';
import type { Publisher } from '../../realtime/publisher.js';
import { isId, requireCount, requireId, requireLength } from '../../validation.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { UsersService } from '../users/users.service.js';
import { appendAction, type ModerationLogStore, type NewAction } from './moderation-log.store.js';
import {
  BAN_MAX_SECONDS,
  BAN_MIN_SECONDS,
  MUTE_MAX_SECONDS,
  MUTE_MIN_SECONDS,
  PAGE_DEFAULT,
  PAGE_MAX,
  REASON_MAX_CHARACTERS,
  ROOM_NAME_MAX_CHARACTERS,
  SLOW_MODE_MAX_SECONDS,
} from './moderation.limits.js';
import type { Check, ModerationStore, Parties } from './moderation.store.js';
import { activeMute, may, refusal, requireRight, type Right } from './permissions.js';

export interface UpdateRoomInput {
  roomId: string;
  name?: string | null;
  slowModeSeconds?: number | null;
  frozen?: boolean | null;
}

/**
 * Roles, kicks, bans, mutes, room settings and the moderation log. Every
 * decision is the permission table's (permissions.ts), taken on the rows
 * locked by the store's transaction; every action is logged in that same
 * transaction, then announced: a ModerationEvent to the room (moderators
 * only for REPORT_RESOLVED), and for a kick or a ban the removal itself,
 * exactly as leaveRoom announces one (RoomsService.removed).
 */
export class ModerationService {
  constructor(
    private readonly deps: {
      store: ModerationStore;
      log: ModerationLogStore;
      rooms: RoomsService;
      users: UsersService;
      publish: Publisher;
      clock: Clock;
      config: ModerationConfig;
    },
  ) {}

  get clock(): Clock {
    return this.deps.clock;
  }

  /** The room (NOT_FOUND otherwise), the target's id, and the parties of an action judged by `right`. */
  private async parties(
    viewer: Viewer,
    roomId: string,
    userId: string,
    right: Right,
    extra: { to?: RoomRole } = {},
  ): Promise<{ room: RoomRow; parties: Parties }> {
    const room = await this.deps.rooms.requireRoom(roomId);
    const targetId = requireId(userId, 'User');
    const check: Check = (actor, target) =>
      requireRight(right, { room, actor: actor?.role ?? null, target: target?.role ?? null, ...extra });
    return { room, parties: { roomId: room.id, actorId: viewer.userId, targetId, now: this.deps.clock.now(), check } };
  }

  /** Announces a logged action to the room: every member, or MODERATOR and above for a resolved report. */
  announce(action: ModerationActionRow): void {
    const audience = action.kind === 'REPORT_RESOLVED' ? 'moderators' : 'members';
    this.deps.publish.room(action.roomId, { type: 'moderation', actionId: action.id, audience });
  }

  async setRole(viewer: Viewer, roomId: string, userId: string, role: RoomRole): Promise<MembershipRow> {
    const { parties } = await this.parties(viewer, roomId, userId, 'setRole', { to: role });
    const { member, actions } = await this.deps.store.setRole(parties, role);
    for (const action of actions) this.announce(action);
    return member;
  }

  async kick(viewer: Viewer, roomId: string, userId: string, reason: string | null | undefined): Promise<boolean> {
    const text = requireReason(reason);
    const { room, parties } = await this.parties(viewer, roomId, userId, 'kick');
    const action = await this.deps.store.kick(parties, text);
    await this.deps.rooms.removed(room.id, parties.targetId, 'KICKED');
    this.announce(action);
    return true;
  }

  async ban(
    viewer: Viewer,
    roomId: string,
    userId: string,
    reason: string | null | undefined,
    durationSeconds: number | null | undefined,
  ): Promise<RoomBanRow> {
    const text = requireReason(reason);
    if (durationSeconds != null && (durationSeconds < BAN_MIN_SECONDS || durationSeconds > BAN_MAX_SECONDS)) {
      throw badInput(`durationSeconds must be ${BAN_MIN_SECONDS}-${BAN_MAX_SECONDS}, or null for no end`, 'durationSeconds');
    }
    const { room, parties } = await this.parties(viewer, roomId, userId, 'ban');
    if (!(await this.deps.users.findById(parties.targetId))) throw notFound('User');
    const expiresAt = durationSeconds == null ? null : new Date(parties.now.getTime() + durationSeconds * 1000);
    const { ban, wasMember, action } = await this.deps.store.ban(parties, text, expiresAt);
    if (wasMember) await this.deps.rooms.removed(room.id, parties.targetId, 'BANNED');
    this.announce(action);
    return ban;
  }

  async unban(viewer: Viewer, roomId: string, userId: string): Promise<boolean> {
    const { parties } = await this.parties(viewer, roomId, userId, 'unban');
    const action = await this.deps.store.unban(parties);
    if (action) this.announce(action);
    return true;
  }

  async mute(
    viewer: Viewer,
    roomId: string,
    userId: string,
    durationSeconds: number,
    reason: string | null | undefined,
  ): Promise<MembershipRow> {
    const text = requireReason(reason);
    if (durationSeconds !== 0 && (durationSeconds < MUTE_MIN_SECONDS || durationSeconds > MUTE_MAX_SECONDS)) {
      throw badInput(`durationSeconds must be ${MUTE_MIN_SECONDS}-${MUTE_MAX_SECONDS}, or 0 to lift the mute`, 'durationSeconds');
    }
    const { parties } = await this.parties(viewer, roomId, userId, 'mute');
    const until = durationSeconds === 0 ? null : new Date(parties.now.getTime() + durationSeconds * 1000);
    const { member, action } = await this.deps.store.mute(parties, until, text);
    if (action) this.announce(action);
    return member;
  }

  async updateRoom(viewer: Viewer, input: UpdateRoomInput): Promise<RoomRow> {
    const changes: { name?: string; slowModeSeconds?: number; frozen?: boolean } = {};
    if (input.name != null) {
      requireLength('name', input.name, 1, ROOM_NAME_MAX_CHARACTERS);
      changes.name = input.name;
    }
    if (input.slowModeSeconds != null) {
      requireCount('slowModeSeconds', input.slowModeSeconds, SLOW_MODE_MAX_SECONDS);
      changes.slowModeSeconds = input.slowModeSeconds;
    }
    if (input.frozen != null) changes.frozen = input.frozen;
    const room = await this.deps.rooms.requireRoom(input.roomId);
    const { room: updated, action } = await this.deps.store.updateRoom(
      room.id,
      viewer.userId,
      changes,
      this.deps.clock.now(),
      (actor) => requireRight('updateRoom', { room, actor: actor?.role ?? null }),
    );
    if (action) this.announce(action);
    return updated;
  }

  /** FORBIDDEN unless the viewer moderates the room (MODERATOR and above of a GROUP room); the room and membership. */
  async requireModerator(viewer: Viewer, roomId: string): Promise<{ room: RoomRow; membership: MembershipRow }> {
    const { room, membership } = await this.deps.rooms.requireMembership(viewer, roomId);
    requireRight('moderate', { room, actor: membership.role });
    return { room, membership };
  }

  /** Whether the member may act with `right` (the table, for callers outside this feature). */
  may(right: Right, room: Pick<RoomRow, 'kind'>, actor: RoomRole | null, target: RoomRole | null = null): boolean {
    return may(right, { room, actor, target });
  }

  /** Why not (the table), for callers that throw their own way. */
  refusal(right: Right, room: Pick<RoomRow, 'kind'>, actor: RoomRole | null, target: RoomRole | null = null) {
    return refusal(right, { room, actor, target });
  }

  /** The moderation log, newest first, within the retention. */
  async log(viewer: Viewer, roomId: string, first: number | null | undefined, before: string | null | undefined) {
    const count = first ?? PAGE_DEFAULT;
    if (count < 1 || count > PAGE_MAX) throw badInput(`first must be 1-${PAGE_MAX}`, 'first');
    if (before != null && !isId(before)) throw badInput('before must be the id of a moderation log entry', 'before');
    const { room } = await this.requireModerator(viewer, roomId);
    return this.deps.log.page(room.id, count, this.retentionCutoff(), before == null ? null : before.toLowerCase());
  }

  /** Room.bans: the bans in force (FORBIDDEN below MODERATOR). */
  async bans(viewer: Viewer, room: RoomRow): Promise<RoomBanRow[]> {
    await this.requireModerator(viewer, room.id);
    return this.deps.store.activeBans(room.id, this.deps.clock.now());
  }

  /** A member's mute end when it is in force (RoomMember.mutedUntil, Room.viewerMutedUntil). */
  mutedUntil(member: Pick<MembershipRow, 'mutedUntil'> | null): Date | null {
    return member ? activeMute(member, this.deps.clock) : null;
  }

  /** Appends an entry inside the caller's transaction (a moderator's delete, a resolved report). */
  record(tx: Database, action: NewAction): Promise<ModerationActionRow> {
    return appendAction(tx, action, this.deps.clock.now());
  }

  /** The viewer's membership of each room (Room.viewerRole, Room.viewerMutedUntil). */
  viewerMemberships(viewer: Viewer | null, roomIds: readonly string[]) {
    return this.deps.rooms.viewerMemberships(viewer, roomIds);
  }

  findActions(ids: readonly string[]) {
    return this.deps.log.findByIds(ids);
  }

  /** Entries older than this are no longer shown, and are deleted by the sweep. */
  retentionCutoff(): Date {
    return new Date(this.deps.clock.now().getTime() - this.deps.config.logRetentionDays * 86_400_000);
  }

  /** Deletes expired log entries in batches until none is left (or another instance is sweeping). */
  async sweepLog(batch = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.deps.log.sweep(this.retentionCutoff(), batch);
      total += deleted;
      if (deleted < batch) return total;
    }
  }
}

/** A kick's, ban's or mute's reason: at most REASON_MAX_CHARACTERS; empty is none. */
function requireReason(reason: string | null | undefined): string | null {
  if (reason == null || reason === '') return null;
  requireLength('reason', reason, 1, REASON_MAX_CHARACTERS);
  return reason;
}

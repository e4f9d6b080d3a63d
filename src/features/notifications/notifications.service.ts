import type { Viewer } from '../../auth/viewer.js';
import type { Clock } from '../../clock.js';
import type { MembershipRow, RoomRow } from '../../db/schema.js';
import { badInput, forbidden } from '../../errors.js';
import type { NotificationLevel } from '../../generated/graphql.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { NotificationsStore } from './notifications.store.js';

/** What notifies a member who chose nothing: every message of a DIRECT room, mentions in a GROUP room. */
export const defaultLevel = (room: Pick<RoomRow, 'kind'>): NotificationLevel => (room.kind === 'DIRECT' ? 'ALL' : 'MENTIONS');

/** The latest mutedUntil taken: 9999-12-31T23:59:59.999Z. */
const LATEST_MUTE = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export class NotificationsService {
  constructor(private readonly deps: { store: NotificationsStore; rooms: RoomsService; clock: Clock }) {}

  /**
   * A member sets what notifies them in a room, and until when it is
   * silenced (null, or an instant already past: not muted). Idempotent.
   */
  async setRoomNotifications(
    viewer: Viewer,
    roomId: string,
    level: NotificationLevel,
    mutedUntil: Date | string | null | undefined,
  ): Promise<RoomRow> {
    const { room } = await this.deps.rooms.requireMembership(viewer, roomId);
    const until = mutedUntil == null ? null : new Date(mutedUntil);
    // The database keeps instants up to the year 9999 as written here; later ones are not a mute anyone means.
    if (until !== null && until.getTime() > LATEST_MUTE) throw badInput('mutedUntil must be before the year 10000', 'mutedUntil');
    const muted = until !== null && until.getTime() > this.deps.clock.now().getTime() ? until : null;
    // Left between the check and the write: refused like any non-member.
    if (!(await this.deps.store.set(room.id, viewer.userId, level, muted))) throw forbidden('You are not a member of this room');
    return room;
  }

  /** The viewer's level in the room: their choice, else the room kind's default (also for a non-member). */
  level(room: Pick<RoomRow, 'kind'>, membership: Pick<MembershipRow, 'notificationLevel'> | null): NotificationLevel {
    return membership?.notificationLevel ?? defaultLevel(room);
  }

  /** Until when the room is silenced for the member; null when it is not (any more). */
  mutedUntil(membership: Pick<MembershipRow, 'notificationsMutedUntil'> | null): Date | null {
    const until = membership?.notificationsMutedUntil ?? null;
    return until !== null && until.getTime() > this.deps.clock.now().getTime() ? until : null;
  }
}

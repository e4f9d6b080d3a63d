import type { Viewer } from '../../auth/viewer.js';
import type { MessageRow } from '../../db/schema.js';
import { badInput } from '../../errors.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { MessagesService } from '../messages/messages.service.js';
import { requireRight } from '../moderation/permissions.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { PinsStore } from './pins.store.js';

/** At most this many pinned messages per room. */
export const MAX_PINS = 50;

export class PinsService {
  constructor(private readonly deps: { store: PinsStore; messages: MessagesService; rooms: RoomsService; publish: Publisher }) {}

  /**
   * MODERATOR and above in a GROUP room, either member in a DIRECT room.
   * Idempotent: pinning a pinned message changes and announces nothing.
   * A deleted message cannot be pinned; the 51st pin of a room is
   * BAD_USER_INPUT with reason PIN_LIMIT.
   */
  async pin(viewer: Viewer, messageId: string): Promise<MessageRow> {
    const message = await this.requirePinner(viewer, messageId);
    if (message.pinnedAt) return message;
    if (message.deletedAt) throw badInput('A deleted message cannot be pinned', 'messageId');
    const pinned = await this.deps.store.pin(message, viewer.userId, MAX_PINS);
    if (pinned === 'limit') {
      throw badInput(
        `This room has ${MAX_PINS} pinned messages, the most it may have: unpin one first`,
        'messageId',
        'PIN_LIMIT',
      );
    }
    if (!pinned) return (await this.deps.messages.findByIds([message.id]))[0] ?? message;
    this.deps.publish.room(pinned.roomId, { type: 'message-changed', change: 'PINNED', message: pinned });
    return pinned;
  }

  /** The same rights; idempotent. */
  async unpin(viewer: Viewer, messageId: string): Promise<MessageRow> {
    const message = await this.requirePinner(viewer, messageId);
    if (!message.pinnedAt) return message;
    const unpinned = await this.deps.store.unpin(message.id);
    if (!unpinned) return (await this.deps.messages.findByIds([message.id]))[0] ?? message;
    this.deps.publish.room(unpinned.roomId, { type: 'message-changed', change: 'UNPINNED', message: unpinned });
    return unpinned;
  }

  private async requirePinner(viewer: Viewer, messageId: string): Promise<MessageRow> {
    const { message, room, membership } = await this.deps.messages.requireMessage(viewer, messageId);
    if (room.kind === 'GROUP') requireRight('pin', { room, actor: membership.role });
    return message;
  }

  /** Room.pinnedMessages per room, newest pin first: for members only (empty from outside a PUBLIC room). */
  async ofRooms(viewer: Viewer | null, roomIds: readonly string[]): Promise<MessageRow[][]> {
    const mine = viewer ? await this.deps.rooms.existingMemberships([...new Set(roomIds)], [viewer.userId]) : [];
    const member = new Set(mine.map((m) => m.roomId));
    const rows = await this.deps.store.ofRooms(roomIds.filter((id) => member.has(id)));
    return roomIds.map((roomId) => rows.filter((row) => row.roomId === roomId));
  }
}

import type { Viewer } from '../../auth/viewer.js';
import type { MessageRow } from '../../db/schema.js';
import { badInput, forbidden } from '../../errors.js';
import type { Publisher } from '../../realtime/publisher.js';
import { isId } from '../../validation.js';
import type { MessageExtension } from '../messages/messages.service.js';
import { refusal } from '../moderation/permissions.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { MentionsStore } from './mentions.store.js';

/** At most this many distinct members per message. */
export const MAX_MENTIONS = 50;
/** In rooms of more members than this, only MODERATOR and above may mention the room. */
export const MENTION_ROOM_FREELY = 50;

export class MentionsService {
  constructor(private readonly deps: { store: MentionsStore; rooms: RoomsService; publish: Publisher }) {}

  /** What mentions add to sending, editing and deleting messages. */
  readonly extension: MessageExtension = {
    prepareSend: async (viewer, input, roomId) => {
      const mentionRoom = input.mentionRoom === true;
      if (!mentionRoom && (input.mentions === null || input.mentions === undefined || input.mentions.length === 0)) return null;
      const ids = distinctIds(input.mentions ?? []);
      const { room, membership } = await this.deps.rooms.requireMembership(viewer, roomId);
      await this.requireMembers(room.id, ids);
      if (mentionRoom && (await this.deps.store.memberCount(room.id)) > MENTION_ROOM_FREELY) {
        const why = refusal('mentionRoom', { room, actor: membership.role });
        if (why) {
          throw forbidden(
            `Only MODERATOR and above may mention a room of more than ${MENTION_ROOM_FREELY} members`,
            'MENTION_NOT_ALLOWED',
          );
        }
      }
      return {
        fields: { mentionIds: ids, mentionRoom },
        inTransaction: async (tx, message) => {
          // Checked again where it is written: a member who left meanwhile is refused, and nothing is stored.
          await this.requireMembers(message.roomId, ids, tx);
          await this.deps.store.record(tx, message, ids);
        },
        announce: (message) => this.announce(message, mentionRoom ? 'room' : ids),
      };
    },
    prepareEdit: async (_viewer, message, input) => {
      if (input.mentions === null || input.mentions === undefined) return null;
      const ids = distinctIds(input.mentions);
      const added = ids.filter((id) => !message.mentionIds.includes(id));
      await this.requireMembers(message.roomId, added);
      return {
        fields: { mentionIds: ids },
        inTransaction: async (tx, edited, before) => {
          const newlyAdded = ids.filter((id) => !before!.mentionIds.includes(id));
          await this.requireMembers(edited.roomId, newlyAdded, tx);
          await this.deps.store.keepOnly(tx, edited.id, ids);
          await this.deps.store.record(tx, edited, newlyAdded);
        },
        // Only the newly mentioned are told.
        announce: (edited, before) => {
          const newlyAdded = ids.filter((id) => !before!.mentionIds.includes(id));
          if (newlyAdded.length > 0) this.announce(edited, newlyAdded);
        },
      };
    },
    deleting: async (tx, deleted) => {
      await this.deps.store.forget(tx, deleted.id);
      return null;
    },
  };

  /** BAD_USER_INPUT naming the first id that is not a member of the room. */
  private async requireMembers(roomId: string, ids: readonly string[], db?: Parameters<MentionsStore['notMembers']>[2]) {
    const [outsider] = await this.deps.store.notMembers(roomId, ids, db);
    if (outsider !== undefined) throw badInput(`mentions: ${outsider} is not a member of this room`, 'mentions');
  }

  /** Mentioned on each recipient's myEvents: the members mentioned (or all, for @room) but the author and those who blocked them. */
  private announce(message: MessageRow, userIds: readonly string[] | 'room'): void {
    this.deps.publish.track(
      this.deps.store.recipients(message.roomId, message.authorId, userIds).then((recipients) => {
        for (const userId of recipients) this.deps.publish.user(userId, { type: 'mentioned', message });
      }),
    );
  }

  /** Room.unreadMentionCount per room, in the order asked; 0 where the viewer is not a member. */
  async unreadCounts(viewer: Viewer | null, roomIds: readonly string[]): Promise<number[]> {
    const rows = viewer ? await this.deps.store.unreadCounts(viewer.userId, [...new Set(roomIds)]) : [];
    const byRoom = new Map(rows.map((row) => [row.roomId, row.count]));
    return roomIds.map((roomId) => byRoom.get(roomId) ?? 0);
  }
}

/** The ids once each, in the order first given: each a user id, at most MAX_MENTIONS. */
function distinctIds(ids: readonly string[]): string[] {
  const distinct = [...new Set(ids.map((id) => id.toLowerCase()))];
  const bad = distinct.find((id) => !isId(id));
  if (bad !== undefined) throw badInput('mentions must be user ids of members of this room', 'mentions');
  if (distinct.length > MAX_MENTIONS) throw badInput(`mentions: at most ${MAX_MENTIONS} distinct members`, 'mentions');
  return distinct;
}

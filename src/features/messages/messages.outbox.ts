import type { Outbox } from '../../outbox/index.js';
import type { MessageExtension } from './messages.service.js';

/**
 * What sending, editing and deleting record in the outbox, in the write's
 * own transaction (registered only when webhooks are configured, so
 * otherwise a send keeps its batched statement): `message.sent` for every
 * message, and beside it `thread.reply` for a reply in a thread and
 * `mention` when it mentions members or @room (the threads and mentions
 * features set those columns, on the row this step reads);
 * `message.edited`, with `mention` for members an edit newly mentions;
 * `message.deleted`.
 */
export function messageEvents(outbox: Outbox): MessageExtension {
  const nudge = () => outbox.nudge();
  return {
    prepareSend: async () => ({
      fields: {},
      inTransaction: async (tx, message) => {
        const { roomId, id: messageId, seq } = message;
        await outbox.record(tx, { type: 'message.sent', roomId, messageId, seq });
        if (message.threadRootId) await outbox.record(tx, { type: 'thread.reply', roomId, messageId, seq });
        if (message.mentionIds.length > 0 || message.mentionRoom) {
          await outbox.record(tx, {
            type: 'mention',
            roomId,
            messageId,
            seq,
            userIds: message.mentionIds,
            room: message.mentionRoom,
          });
        }
      },
      announce: nudge,
    }),
    prepareEdit: async () => ({
      fields: {},
      inTransaction: async (tx, edited, before) => {
        const { roomId, id: messageId, seq } = edited;
        await outbox.record(tx, { type: 'message.edited', roomId, messageId, seq });
        const known = new Set(before?.mentionIds ?? []);
        const added = edited.mentionIds.filter((id) => !known.has(id));
        if (added.length > 0) await outbox.record(tx, { type: 'mention', roomId, messageId, seq, userIds: added, room: false });
      },
      announce: nudge,
    }),
    deleting: async (tx, deleted) => {
      await outbox.record(tx, { type: 'message.deleted', roomId: deleted.roomId, messageId: deleted.id, seq: deleted.seq });
      return nudge;
    },
  };
}

import type { Viewer } from '../../auth/viewer.js';
import type { MessageRow } from '../../db/schema.js';
import { badInput } from '../../errors.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { MessagesService } from '../messages/messages.service.js';
import { isSingleEmoji } from './emoji.js';
import type { ReactionGroup } from './reactions.mappers.js';
import type { ReactionsStore } from './reactions.store.js';

export class ReactionsService {
  constructor(private readonly deps: { store: ReactionsStore; messages: MessagesService; publish: Publisher }) {}

  /** Idempotent: a repeat changes and announces nothing. */
  async add(viewer: Viewer, messageId: string, emoji: string): Promise<MessageRow> {
    const message = await this.requireReactable(viewer, messageId, emoji);
    if (!(await this.deps.store.add(message.id, viewer.userId, emoji))) {
      // Nothing added: a repeat, or the message was deleted since it was read.
      const now = await this.deps.messages.requireMessage(viewer, message.id);
      if (now.message.deletedAt) throw deletedError();
      return now.message;
    }
    this.changed(message);
    return message;
  }

  /** Idempotent: removing a reaction that is not there is no error and announces nothing. */
  async remove(viewer: Viewer, messageId: string, emoji: string): Promise<MessageRow> {
    const message = await this.requireReactable(viewer, messageId, emoji);
    if (await this.deps.store.remove(message.id, viewer.userId, emoji)) this.changed(message);
    return message;
  }

  /**
   * Message.reactions for each message: grouped by emoji, groups in the order
   * of their first reaction, users earliest first. An emoji nobody reacts
   * with any more has no row, so it has no group.
   */
  async groupsOf(messageIds: readonly string[]): Promise<Map<string, ReactionGroup[]>> {
    const byMessage = new Map<string, Map<string, ReactionGroup>>();
    for (const row of await this.deps.store.ofMessages(messageIds)) {
      let groups = byMessage.get(row.messageId);
      if (!groups) byMessage.set(row.messageId, (groups = new Map<string, ReactionGroup>()));
      let group = groups.get(row.emoji);
      if (!group) groups.set(row.emoji, (group = { emoji: row.emoji, count: 0, userIds: [] }));
      group.count += 1;
      group.userIds.push(row.userId);
    }
    return new Map([...byMessage].map(([id, groups]) => [id, [...groups.values()]]));
  }

  /** The emoji first (an input rule), then the message and the viewer's membership of its room. */
  private async requireReactable(viewer: Viewer, messageId: string, emoji: string): Promise<MessageRow> {
    if (!isSingleEmoji(emoji)) throw badInput('emoji must be exactly one emoji, such as 👍', 'emoji');
    const { message, room, membership } = await this.deps.messages.requireMessage(viewer, messageId);
    this.deps.messages.requireVoice(room, membership); // MUTED, ROOM_FROZEN
    if (message.deletedAt) throw deletedError();
    return message;
  }

  private changed(message: MessageRow): void {
    this.deps.publish.room(message.roomId, { type: 'message-changed', change: 'REACTIONS', message });
  }
}

const deletedError = () => badInput('A deleted message takes no reactions', 'messageId');

import type { Viewer } from '../../auth/viewer.js';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { MembershipRow, MessageRow, ModerationActionRow, RoomRow } from '../../db/schema.js';
import { badInput, forbidden, notFound } from '../../errors.js';
import type { EditMessageInput, MessageView, SendMessageInput } from '../../generated/graphql.js';
import type { ExpensiveReads } from '../../limits/expensive-reads.js';
import type { Metrics } from '../../observability/metrics.js';
import type { RoomHub } from '../../realtime/hub.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { MessageSubscriber } from '../../realtime/subscriber.js';
import { requireCount, requireId, requireLength } from '../../validation.js';
import type { BlockingService } from '../blocking/blocking.service.js';
import type { ModerationService } from '../moderation/moderation.service.js';
import { postRefusal, voiceRefusal } from '../moderation/permissions.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { decodeCursor, encodeCursor } from './cursors.js';
import type { MessagePage } from './messages.mappers.js';
import { isPlain, type HistoryScope, type MessagesStore, type NewMessage } from './messages.store.js';
import { SendQueue } from './send-queue.js';

export interface HistoryArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export type EditInput = EditMessageInput;
export type SendInput = SendMessageInput;

/**
 * What a feature adds to sending, editing and deleting messages (threads,
 * mentions), registered with MessagesService.extend: the messages feature
 * knows the steps, not the features.
 */
export interface MessageExtension {
  /**
   * Checks its part of a send's input before anything is stored (throwing
   * its refusal, so nothing is stored) and says what it adds; null when the
   * input asks nothing of it.
   */
  prepareSend?(viewer: Viewer, input: SendInput, roomId: string): Promise<PreparedWrite<MessageFields> | null>;
  /** The same for an edit of `message` by its author. */
  prepareEdit?(viewer: Viewer, message: MessageRow, input: EditInput): Promise<PreparedWrite<EditFields> | null>;
  /** Work in the transaction that turns a message into a tombstone; what it returns announces it after the commit. */
  deleting?(tx: Database, deleted: MessageRow): Promise<(() => void) | null>;
}

/** Columns a send extension sets on the new message. */
export type MessageFields = Pick<NewMessage, 'threadRootId' | 'showInRoom' | 'mentionIds' | 'mentionRoom'>;
/** Columns an edit extension sets. */
export type EditFields = Pick<NewMessage, 'mentionIds'>;

/** An extension's part of one write: its columns, its work in the write's transaction, its announcements after the commit. */
export interface PreparedWrite<Fields> {
  fields: Fields;
  /** `before`: the message as it was (an edit), null for a send. */
  inTransaction?(tx: Database, written: MessageRow, before: MessageRow | null): Promise<void>;
  announce?(written: MessageRow, before: MessageRow | null): void;
}

export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;
/** Pages longer than this are expensive reads: they wait for a turn (limits/expensive-reads.ts). */
export const EXPENSIVE_PAGE = 100;

export class MessagesService {
  /** A busy room's concurrent sends are committed together. */
  private readonly sends: SendQueue;
  private readonly extensions: MessageExtension[] = [];

  constructor(
    private readonly deps: {
      store: MessagesStore;
      rooms: RoomsService;
      moderation: ModerationService;
      blocking: BlockingService;
      /** What mutes and slow mode are judged by (the store's statements take it too). */
      clock: Clock;
      publish: Publisher;
      hub: RoomHub;
      /** The instance's turns for expensive reads; pages over EXPENSIVE_PAGE take one. */
      expensiveReads: ExpensiveReads;
      metrics?: Pick<Metrics, 'messageSent' | 'sendStatement'>;
    },
  ) {
    this.sends = new SendQueue(deps.store, { metrics: deps.metrics });
  }

  /** Adds a feature's steps to every send, edit and delete (in the order extended). */
  extend(extension: MessageExtension): void {
    this.extensions.push(extension);
  }

  /**
   * Stored, then announced after the commit. (Each sendMessage call has spent
   * a point of the author's send limit before this runs: limits/mutation-limits.ts.)
   * The announcement is not awaited: a committed message must never fail or
   * wait because Redis is slow or down; live feeds fill what pub/sub misses
   * from the database.
   */
  async send(viewer: Viewer, input: SendInput): Promise<MessageRow> {
    // With attachments the body may be empty (the attachments feature checks them).
    if (input.body !== '' || !input.attachmentIds?.length) requireBody(input.body);
    const clientId = input.clientId ?? null;
    if (clientId !== null) requireLength('clientId', clientId, 1, 64);
    const roomId = requireId(input.roomId, 'Room');
    let replyToId: string | null = null;
    if (input.replyToId !== null && input.replyToId !== undefined) {
      // Membership first, so a non-member learns nothing about the message.
      await this.deps.rooms.requireMembership(viewer, roomId);
      const original = await this.deps.store.findById(requireId(input.replyToId, 'Message'));
      if (!original) throw notFound('Message');
      if (original.roomId !== roomId) throw badInput('replyToId must be a message of the same room', 'replyToId');
      replyToId = original.id;
    }
    const steps: Array<PreparedWrite<MessageFields>> = [];
    try {
      for (const extension of this.extensions) {
        const step = await extension.prepareSend?.(viewer, input, roomId);
        if (step) steps.push(step);
      }
    } catch (refusal) {
      // A repeat of a stored send is answered with its message, whatever the extensions would refuse
      // now (the reply's root deleted, a mentioned member gone, the room grown past @room's limit
      // since): the client is retrying a send whose answer it lost. Looked up only on a refusal.
      const stored = clientId === null ? null : await this.deps.store.findByClientId(roomId, viewer.userId, clientId);
      if (stored) return stored;
      throw refusal;
    }
    const message: NewMessage = { roomId, authorId: viewer.userId, body: input.body, clientId, replyToId };
    for (const step of steps) Object.assign(message, step.fields);
    // The insert checks membership, mutes, freeze, slow mode and blocks itself: the common case is one statement.
    // A plain message may share a statement with others; a thread reply, a mention or an attachment goes
    // alone, in a transaction with its extensions' rows.
    const plain = isPlain(message) && steps.every((step) => !step.inTransaction);
    const insert = () =>
      plain
        ? this.sends.send(message)
        : this.deps.store.insertWith(message, async (tx, row) => {
            for (const step of steps) await step.inTransaction?.(tx, row, null);
          });
    for (let attempt = 0; ; attempt++) {
      const outcome = await insert();
      if (outcome.kind === 'inserted') {
        this.deps.metrics?.messageSent();
        this.deps.publish.room(roomId, { type: 'message', message: outcome.message });
        for (const step of steps) step.announce?.(outcome.message, null);
      }
      if (outcome.kind !== 'rejected') return outcome.message;
      const stored = await this.whyRejected(viewer, roomId, clientId);
      if (stored) return stored;
      // Nothing refuses it any more (a mute ended, slow mode went off meanwhile): once more, then give up.
      if (attempt === 1) throw forbidden('You may not post in this room right now');
    }
  }

  /**
   * What refused a send, as its error, read after the fact: a repeat of a
   * stored clientId is answered with its message instead (never refused,
   * whatever the author may do now); then NOT_FOUND or FORBIDDEN for a
   * non-member, BLOCKED in a DIRECT room, MUTED, ROOM_FROZEN, SLOW_MODE.
   * Null when none of these holds any more.
   */
  private async whyRejected(viewer: Viewer, roomId: string, clientId: string | null): Promise<MessageRow | null> {
    if (clientId !== null) {
      const stored = await this.deps.store.findByClientId(roomId, viewer.userId, clientId);
      if (stored) return stored;
    }
    const { room, membership } = await this.deps.rooms.requireMembership(viewer, roomId);
    if (room.kind === 'DIRECT' && room.directKey) {
      const [a, b] = room.directKey.split(':') as [string, string];
      await this.deps.blocking.requireNotBlocked(a, b);
    }
    const refusal = postRefusal(room, membership, this.deps.clock);
    if (refusal) throw refusal;
    return null;
  }

  /** The author's own message only (not even the room's OWNER may put words in someone's mouth); a tombstone stays one. */
  async edit(viewer: Viewer, input: EditInput): Promise<MessageRow> {
    requireBody(input.body);
    const { message, room, membership } = await this.requireMessage(viewer, input.id);
    if (message.authorId !== viewer.userId) throw forbidden('Only its author can edit a message');
    this.requireVoice(room, membership);
    if (message.deletedAt) throw badInput('A deleted message cannot be edited', 'id');
    const steps: Array<PreparedWrite<EditFields>> = [];
    for (const extension of this.extensions) {
      const step = await extension.prepareEdit?.(viewer, message, input);
      if (step) steps.push(step);
    }
    const fields: EditFields = {};
    for (const step of steps) Object.assign(fields, step.fields);
    const edited = await this.deps.store.edit(
      message.id,
      viewer.userId,
      input.body,
      fields,
      steps.length === 0
        ? undefined
        : async (tx, row) => {
            for (const step of steps) await step.inTransaction?.(tx, row, message);
          },
    );
    if (!edited) throw badInput('A deleted message cannot be edited', 'id'); // deleted meanwhile
    this.deps.publish.room(edited.roomId, { type: 'message-changed', change: 'EDITED', message: edited });
    for (const step of steps) step.announce?.(edited, message);
    return edited;
  }

  /**
   * The author; or MODERATOR and above, a message whose author ranks below
   * them (a former member counts as lowest; the OWNER outranks everyone):
   * the permission table's `deleteMessage`. The message stays as a
   * tombstone, so seqs keep having no gaps; deleting a tombstone again
   * changes and announces nothing. A moderator's delete sets deletedBy and
   * is logged (MESSAGE_DELETED, the author as target) in the same
   * transaction, then announced as a ModerationEvent after the
   * MessageChanged DELETED.
   */
  async delete(viewer: Viewer, id: string): Promise<MessageRow> {
    const { message, room, membership } = await this.requireMessage(viewer, id);
    const own = message.authorId === viewer.userId;
    if (!own) {
      const author = await this.deps.rooms.membership(room.id, message.authorId);
      const refusal = this.deps.moderation.refusal('deleteMessage', room, membership.role, author?.role ?? null);
      if (refusal) throw forbidden(`You may not delete this message: ${refusal.message}`);
    }
    if (message.deletedAt) return message;
    let action: ModerationActionRow | null = null;
    let announcements: Array<() => void> = [];
    const deleted = await this.deps.store.tombstone(message.id, own ? null : viewer.userId, async (tx, row) => {
      announcements = [];
      for (const extension of this.extensions) {
        const announce = await extension.deleting?.(tx, row);
        if (announce) announcements.push(announce);
      }
      if (own) return;
      action = await this.deps.moderation.record(tx, {
        roomId: row.roomId,
        kind: 'MESSAGE_DELETED',
        actorId: viewer.userId,
        targetId: row.authorId,
        messageId: row.id,
      });
    });
    // Null: another call deleted it meanwhile, and announced it.
    if (!deleted) return (await this.deps.store.findById(message.id)) ?? message;
    this.deps.publish.room(deleted.roomId, { type: 'message-changed', change: 'DELETED', message: deleted });
    for (const announce of announcements) announce();
    if (action) this.deps.moderation.announce(action);
    return deleted;
  }

  /** MUTED or ROOM_FROZEN when the member may not edit, react or type now. */
  requireVoice(room: RoomRow, membership: MembershipRow): void {
    const refusal = voiceRefusal(room, membership, this.deps.clock);
    if (refusal) throw refusal;
  }

  /**
   * A message in a room the viewer is a member of, the room and that
   * membership: NOT_FOUND for an id that names no message, FORBIDDEN for a
   * non-member (its author too, once they left), who learns nothing more
   * about it.
   */
  async requireMessage(viewer: Viewer, id: string): Promise<{ message: MessageRow; room: RoomRow; membership: MembershipRow }> {
    const message = await this.deps.store.findById(requireId(id, 'Message'));
    if (!message) throw notFound('Message');
    const { room, membership } = await this.deps.rooms.requireMembership(viewer, message.roomId);
    return { message, room, membership };
  }

  /**
   * Relay pagination over seq, oldest first within a page: the room's
   * messages (view ALL), its timeline (TIMELINE: no thread replies but those
   * shown in the room), or one thread's replies (threadMessages, whose
   * caller checked the root).
   */
  async history(
    viewer: Viewer,
    roomId: string,
    args: HistoryArgs & { view?: MessageView | null },
    thread: { rootId: string } | null = null,
  ): Promise<MessagePage> {
    const { first, last, after, before } = args;
    if (first != null && last != null) throw badInput('Pass first or last, not both');
    if (first != null) requireCount('first', first, MAX_PAGE);
    if (last != null) requireCount('last', last, MAX_PAGE);
    const { room } = await this.deps.rooms.requireMembership(viewer, roomId);
    const afterSeq = after != null ? decodeCursor(after, room.id, 'after') : null;
    const beforeSeq = before != null ? decodeCursor(before, room.id, 'before') : null;
    const forward = first != null || (last == null && after != null && before == null);
    const count = first ?? last ?? DEFAULT_PAGE;
    const scope: HistoryScope = thread ? { thread: thread.rootId } : args.view === 'TIMELINE' ? 'timeline' : 'all';
    const bounds = { afterSeq, beforeSeq };

    const read = () => this.deps.store.window(room.id, bounds, count + 1, forward ? 'oldest' : 'newest', scope);
    const rows = count > EXPENSIVE_PAGE ? await this.deps.expensiveReads.run(read) : await read();
    const more = rows.length > count;
    // One row beyond the page was read to learn whether there is more: drop it from the far end.
    const page = more ? (forward ? rows.slice(0, count) : rows.slice(1)) : rows;
    // Seqs are 1..lastSeq with no gaps (deleted messages stay as tombstones),
    // so whether anything of the whole room lies beyond the cursor on the
    // other side is known exactly; of a timeline or a thread, one probe tells.
    const hasBeforeCursor =
      afterSeq !== null &&
      afterSeq >= 1 &&
      room.lastSeq >= 1 &&
      (scope === 'all' || (await this.deps.store.anyInScope(room.id, scope, { atMost: afterSeq })));
    const hasAfterCursor =
      beforeSeq !== null &&
      beforeSeq <= room.lastSeq &&
      (scope === 'all' || (await this.deps.store.anyInScope(room.id, scope, { atLeast: beforeSeq })));
    const edges = page.map((node) => ({ cursor: encodeCursor(node.roomId, node.seq), node }));
    return {
      edges,
      pageInfo: {
        hasNextPage: forward ? more : hasAfterCursor,
        hasPreviousPage: forward ? hasBeforeCursor : more,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }

  /**
   * Live messages of a room, after `after` when given. The subscriber is
   * registered before membership is checked, so a leave that lands in
   * between still ends it.
   */
  async subscribe(viewer: Viewer, roomId: string, after: string | null | undefined): Promise<MessageSubscriber> {
    const id = requireId(roomId, 'Room');
    let afterSeq: number | null = null;
    try {
      afterSeq = after != null ? decodeCursor(after, id, 'after') : null;
    } catch (error) {
      await this.deps.rooms.requireRoom(id); // an unknown room is NOT_FOUND before its cursor is judged
      throw error;
    }
    const live = await this.deps.hub.messages(id, viewer.userId, afterSeq);
    try {
      await this.deps.rooms.requireMembership(viewer, id);
    } catch (error) {
      live.end();
      throw error;
    }
    return live;
  }

  findByIds(ids: readonly string[]) {
    return this.deps.store.findByIds(ids);
  }

  /** Messages of a room with seq > afterSeq, oldest first: what live feeds read to fill gaps and catch up. */
  after(roomId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    return this.deps.store.after(roomId, afterSeq, limit);
  }

  /**
   * Room.lastMessage: each room's newest message, for rooms the viewer is a
   * member of. History is for members: a PUBLIC room seen from outside shows
   * no last message.
   */
  async lastOfRooms(viewer: Viewer | null, roomIds: readonly string[]): Promise<Array<MessageRow | null>> {
    const [last, mine] = await Promise.all([
      this.deps.store.lastOf(roomIds),
      viewer ? this.deps.rooms.existingMemberships(roomIds, [viewer.userId]) : Promise.resolve([]),
    ]);
    const member = new Set(mine.map((m) => m.roomId));
    const byRoom = new Map(last.filter((m) => member.has(m.roomId)).map((m) => [m.roomId, m]));
    return roomIds.map((id) => byRoom.get(id) ?? null);
  }
}

/** sendMessage's and editMessage's limits: 1-4000 code points, no NUL, not only whitespace. */
function requireBody(body: string): void {
  requireLength('body', body, 1, 4000);
  if (body.trim() === '') throw badInput('body must not be only whitespace', 'body');
}

import type { Viewer } from '../../auth/viewer.js';
import type { MessageRow } from '../../db/schema.js';
import { badInput, notFound } from '../../errors.js';
import type { Publisher } from '../../realtime/publisher.js';
import { isId, requireId } from '../../validation.js';
import type { MessagePage } from '../messages/messages.mappers.js';
import type { HistoryArgs, MessageExtension, MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { emptyThread, type ThreadModel, type ThreadPage } from './threads.mappers.js';
import type { ThreadsStore, ThreadViewerState } from './threads.store.js';

/** threads() and myThreads(): first 1-100. */
export const THREADS_PAGE_MAX = 100;
export const THREADS_PAGE_DEFAULT = 20;

export class ThreadsService {
  constructor(
    private readonly deps: { store: ThreadsStore; rooms: RoomsService; messages: MessagesService; publish: Publisher },
  ) {}

  /** What threads add to sending, editing and deleting messages. */
  readonly extension: MessageExtension = {
    prepareSend: async (viewer, input, roomId) => {
      if (input.threadRootId === null || input.threadRootId === undefined) return null;
      const root = await this.requireReplyableRoot(viewer, roomId, input.threadRootId);
      let followers: string[] = [];
      let rootNow: MessageRow = root;
      return {
        fields: { threadRootId: root.id, showInRoom: input.showInRoom === true },
        inTransaction: async (tx, reply) => {
          followers = await this.deps.store.recordReply(tx, reply);
          rootNow = (await this.deps.store.findMessage(root.id, tx)) ?? root;
        },
        announce: (reply) => {
          this.deps.publish.room(reply.roomId, { type: 'message-changed', change: 'THREAD', message: rootNow });
          for (const userId of followers) this.deps.publish.user(userId, { type: 'thread-reply', message: reply });
        },
      };
    },
    prepareEdit: async (_viewer, message, input) => {
      // A member newly mentioned in a reply follows its thread (the mentions feature checks the ids).
      if (!message.threadRootId || !input.mentions) return null;
      return {
        fields: {},
        inTransaction: async (tx, edited, before) => {
          const added = edited.mentionIds.filter((id) => !before!.mentionIds.includes(id) && id !== edited.authorId);
          await this.deps.store.followAll(tx, edited.threadRootId!, edited.roomId, added);
        },
      };
    },
    deleting: async (tx, deleted) => {
      if (!deleted.threadRootId) return null;
      await this.deps.store.replyDeleted(tx, deleted);
      const root = await this.deps.store.findMessage(deleted.threadRootId, tx);
      return () => {
        if (root) this.deps.publish.room(root.roomId, { type: 'message-changed', change: 'THREAD', message: root });
      };
    },
  };

  /**
   * The root a reply in `roomId` may go under: a message of the same room
   * that is not itself a reply and not deleted (BAD_USER_INPUT otherwise),
   * NOT_FOUND when there is no such message. Membership first, so a
   * non-member learns nothing about it.
   */
  private async requireReplyableRoot(viewer: Viewer, roomId: string, rootId: string): Promise<MessageRow> {
    await this.deps.rooms.requireMembership(viewer, roomId);
    const root = await this.deps.store.findMessage(requireId(rootId, 'Message'));
    if (!root) throw notFound('Message');
    if (root.roomId !== roomId) throw badInput('threadRootId must be a message of the same room', 'threadRootId');
    if (root.threadRootId) throw badInput('A thread reply cannot start a thread: reply to its root', 'threadRootId');
    if (root.deletedAt) throw badInput('A deleted message cannot start a thread', 'threadRootId');
    return root;
  }

  /**
   * A thread's root in a room the viewer is a member of: NOT_FOUND for no
   * such message, FORBIDDEN for a non-member; a reply is not a root
   * (BAD_USER_INPUT). A deleted root still names its thread.
   */
  async requireRoot(viewer: Viewer, rootId: string): Promise<MessageRow> {
    const root = await this.deps.store.findMessage(requireId(rootId, 'Message'));
    if (!root) throw notFound('Message');
    await this.deps.rooms.requireMembership(viewer, root.roomId);
    if (root.threadRootId) throw badInput('threadRootId names a thread reply, not a root', 'threadRootId');
    return root;
  }

  /** The thread's summary; one with no replies yet for a root nobody replied to. */
  async summary(root: MessageRow): Promise<ThreadModel> {
    const [row] = await this.deps.store.byRootIds([root.id]);
    return row ?? emptyThread(root.id, root.roomId);
  }

  async subscribe(viewer: Viewer, rootId: string, subscribed: boolean): Promise<ThreadModel> {
    const root = await this.requireRoot(viewer, rootId);
    await this.deps.store.setSubscribed(root.id, root.roomId, viewer.userId, subscribed);
    return this.summary(root);
  }

  async markRead(viewer: Viewer, rootId: string, seq: number): Promise<ThreadModel> {
    if (!Number.isInteger(seq) || seq < 0) throw badInput('seq must not be negative', 'seq');
    const root = await this.requireRoot(viewer, rootId);
    await this.deps.store.markRead(root.id, root.roomId, viewer.userId, seq);
    return this.summary(root);
  }

  /** threadMessages: the replies of a thread whose room the viewer is a member of, paged as messages(). */
  async replies(viewer: Viewer, rootId: string, page: HistoryArgs): Promise<MessagePage> {
    const root = await this.requireRoot(viewer, rootId);
    return this.deps.messages.history(viewer, root.roomId, page, { rootId: root.id });
  }

  /** threads(roomId): a member's view of the room's threads, newest reply first. */
  async ofRoom(viewer: Viewer, roomId: string, first: number | null | undefined, after: string | null | undefined) {
    const count = requireFirst(first);
    const { room } = await this.deps.rooms.requireMembership(viewer, requireId(roomId, 'Room'));
    const from = after != null ? decodeThreadCursor(after) : null;
    const rows = await this.deps.store.ofRoom(room.id, from, count + 1);
    return threadPage(rows, count, from !== null);
  }

  /** myThreads: what the viewer follows in rooms they are a member of, newest reply first. */
  async followed(viewer: Viewer, first: number | null | undefined, after: string | null | undefined, unreadOnly: boolean) {
    const count = requireFirst(first);
    const from = after != null ? decodeThreadCursor(after) : null;
    const rows = await this.deps.store.followed(viewer.userId, from, count + 1, unreadOnly);
    return threadPage(rows, count, from !== null);
  }

  byRootIds(rootIds: readonly string[]) {
    return this.deps.store.byRootIds(rootIds);
  }

  /** The viewer's state per thread, in the order asked: not following and nothing unread where they have no row. */
  async viewerStates(viewer: Viewer | null, rootIds: readonly string[]): Promise<ThreadViewerState[]> {
    const rows = viewer ? await this.deps.store.viewerStates(viewer.userId, [...new Set(rootIds)]) : [];
    const byRoot = new Map(rows.map((row) => [row.rootId, row]));
    return rootIds.map((rootId) => byRoot.get(rootId) ?? { rootId, subscribed: false, unreadCount: 0 });
  }
}

function requireFirst(first: number | null | undefined): number {
  const count = first ?? THREADS_PAGE_DEFAULT;
  if (!Number.isInteger(count) || count < 1 || count > THREADS_PAGE_MAX) {
    throw badInput(`first must be between 1 and ${THREADS_PAGE_MAX}`, 'first');
  }
  return count;
}

/** Thread cursors are opaque: base64url of "t1:<last reply seq>:<last reply ms>:<root id>". */
function encodeThreadCursor(thread: ThreadModel): string {
  return Buffer.from(`t1:${thread.lastReplySeq}:${thread.lastReplyAt?.getTime() ?? 0}:${thread.rootId}`).toString('base64url');
}

function decodeThreadCursor(cursor: string): { lastReplySeq: number; lastReplyAt: Date; rootId: string } {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^t1:(\d{1,10}):(\d{1,16}):([^:]+)$/.exec(text);
  if (!match || !isId(match[3]!)) throw badInput('after is not a valid thread cursor', 'after');
  return { lastReplySeq: Number(match[1]), lastReplyAt: new Date(Number(match[2])), rootId: match[3]!.toLowerCase() };
}

function threadPage(rows: ThreadModel[], count: number, afterCursor: boolean): ThreadPage {
  const page = rows.slice(0, count);
  const edges = page.map((node) => ({ cursor: encodeThreadCursor(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > count,
      hasPreviousPage: afterCursor,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

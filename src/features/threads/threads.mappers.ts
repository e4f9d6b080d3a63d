import type { MessageRow, ThreadRow } from '../../db/schema.js';

/** What resolvers of Thread get: the thread's summary row (codegen's mapper); no lastReplyAt before a first reply. */
export type ThreadModel = Omit<ThreadRow, 'lastReplyAt'> & { lastReplyAt: Date | null };

/** The summary of a root nobody replied to yet. */
export const emptyThread = (rootId: string, roomId: string): ThreadModel => ({
  rootId,
  roomId,
  replyCount: 0,
  lastReplyAt: null,
  lastReplySeq: 0,
  participantIds: [],
});

/** What resolvers of ThreadConnection get. */
export interface ThreadPage {
  edges: Array<{ cursor: string; node: ThreadModel }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** myEvents' ThreadReply: the reply; its thread is read when rendered. */
export interface ThreadReplyEvent {
  __typename: 'ThreadReply';
  message: MessageRow;
}

import type { MessageRow } from '../../db/schema.js';

/** What resolvers of Message get: the stored row (codegen's mapper). */
export type MessageModel = MessageRow;

/** What resolvers of MessageConnection get: a page of history with Relay's page info. */
export interface MessagePage {
  edges: Array<{ cursor: string; node: MessageRow }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

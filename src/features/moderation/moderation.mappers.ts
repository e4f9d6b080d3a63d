import type { ModerationActionRow, RoomBanRow } from '../../db/schema.js';

/** What resolvers of ModerationAction get: the log's row. */
export type ModerationActionModel = ModerationActionRow;

/** What resolvers of RoomBan get: the ban's row. */
export type RoomBanModel = RoomBanRow;

/** What roomEvents yields for a moderation action: the entry, by id, read when rendered. */
export interface ModerationEventPayload {
  __typename: 'ModerationEvent';
  actionId: string;
}

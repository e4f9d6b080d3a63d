import type { MembershipRow, RoomRow } from '../../db/schema.js';

/** What resolvers of Room get: the stored row. */
export type RoomModel = RoomRow;

/** What resolvers of RoomMember get: the membership row. */
export type RoomMemberModel = MembershipRow;

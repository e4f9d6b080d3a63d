import { getTableColumns, sql } from 'drizzle-orm';
import {
  check,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';

/** Postgres' full-text document type; only ever written by a generated column. */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** Timestamps are kept to the millisecond, the precision the API's DateTime carries. */
const instant = (name: string) => timestamp(name, { precision: 3, withTimezone: true });

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: text('username').notNull(),
    /** null for a user provisioned from an identity provider: no password signs in as them. */
    passwordHash: text('password_hash'),
    /** A provisioned user's provider (its `iss`) and subject there (`sub`); null for local accounts. */
    externalIssuer: text('external_issuer'),
    externalSubject: text('external_subject'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    // Usernames are unique regardless of case; the constraint name is how the
    // store recognises the conflict.
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
    // Query.users: a prefix of lower(username), compared byte by byte (text_pattern_ops, whatever
    // the database's collation), so the range the prefix spans is one index scan, already in order.
    index('users_username_prefix_idx').on(sql`lower(${t.username}) text_pattern_ops`),
    // One user per subject of a provider (NULLs, local accounts, never conflict).
    uniqueIndex('users_external_key').on(t.externalIssuer, t.externalSubject),
  ],
);

export const rooms = pgTable(
  'rooms',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: ['GROUP', 'DIRECT'] }).notNull(),
    visibility: text('visibility', { enum: ['PUBLIC', 'PRIVATE'] }).notNull(),
    name: text('name'),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** The seq of the newest committed message; bumped in the statement that inserts it. */
    lastSeq: integer('last_seq').notNull().default(0),
    /** Creation or the newest message, whichever is later: orders `myRooms`. */
    lastActivityAt: instant('last_activity_at').notNull().defaultNow(),
    /** For DIRECT rooms, the two user ids in sorted order: one room per pair. */
    directKey: text('direct_key'),
  },
  (t) => [
    uniqueIndex('rooms_direct_key_key').on(t.directKey),
    index('rooms_public_name_idx')
      .on(sql`lower(${t.name})`)
      .where(sql`${t.visibility} = 'PUBLIC'`),
    check('rooms_direct_private', sql`${t.kind} <> 'DIRECT' OR ${t.visibility} = 'PRIVATE'`),
  ],
);

export const memberships = pgTable(
  'memberships',
  {
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['OWNER', 'MEMBER'] }).notNull(),
    joinedAt: instant('joined_at').notNull().defaultNow(),
    lastReadSeq: integer('last_read_seq').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.roomId, t.userId] }),
    // myRooms and the per-user membership checks go from the user to rooms.
    index('memberships_user_idx').on(t.userId, t.roomId),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id),
    body: text('body').notNull(),
    clientId: text('client_id'),
    replyToId: uuid('reply_to_id').references((): AnyPgColumn => messages.id),
    createdAt: instant('created_at').notNull().defaultNow(),
    editedAt: instant('edited_at'),
    deletedAt: instant('deleted_at'),
    /** Kept by Postgres from the body (English stemming); a tombstone's empty body finds nothing. */
    search: tsvector('search').generatedAlwaysAs(sql`to_tsvector('english', body)`),
  },
  (t) => [
    // History pages, replay after a cursor and gap fills all read by (room, seq).
    uniqueIndex('messages_room_seq_key').on(t.roomId, t.seq),
    // clientId idempotency: NULL client ids never conflict.
    uniqueIndex('messages_client_id_key').on(t.roomId, t.authorId, t.clientId),
    index('messages_search_idx').using('gin', t.search),
  ],
);

export const reactions = pgTable(
  'reactions',
  {
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    emoji: text('emoji').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.userId, t.emoji] })],
);

export type UserRow = typeof users.$inferSelect;
export type RoomRow = typeof rooms.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;
/** Every message column but the search document, which no reader needs. */
const { search: _search, ...messageColumnsWithoutSearch } = getTableColumns(messages);
export const messageColumns = messageColumnsWithoutSearch;
export type MessageRow = Omit<typeof messages.$inferSelect, 'search'>;
export type ReactionRow = typeof reactions.$inferSelect;
export type RoomKind = RoomRow['kind'];
export type RoomVisibility = RoomRow['visibility'];
export type RoomRole = MembershipRow['role'];

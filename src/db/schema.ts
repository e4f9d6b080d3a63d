import { getTableColumns, sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
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
    /** A MEMBER may post one message per this many seconds; 0: off (updateRoom). */
    slowModeSeconds: integer('slow_mode_seconds').notNull().default(0),
    /** Only MODERATOR and above may post, react or type. */
    frozen: boolean('frozen').notNull().default(false),
    /**
     * How many of its messages are in the timeline (not thread replies, or
     * replies shown in the room); bumped with last_seq by the send statements.
     * With messages.timeline_no it counts unread timeline messages without
     * reading them (read-state).
     */
    timelineCount: integer('timeline_count').notNull().default(0),
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
    role: text('role', { enum: ['OWNER', 'ADMIN', 'MODERATOR', 'MEMBER'] }).notNull(),
    joinedAt: instant('joined_at').notNull().defaultNow(),
    lastReadSeq: integer('last_read_seq').notNull().default(0),
    /** When the member's mute ends (muteMember); a past instant is no mute. Checked where they speak, by the app's clock. */
    mutedUntil: instant('muted_until'),
    /** When the member last posted (the send statements set it): what slow mode measures from. */
    lastPostedAt: instant('last_posted_at'),
    /** What notifies the member here (setRoomNotifications); null: the room kind's default. */
    notificationLevel: text('notification_level', { enum: ['ALL', 'MENTIONS', 'NONE'] }),
    /** Notifications of this room are silenced until then; a past instant is no mute. */
    notificationsMutedUntil: instant('notifications_muted_until'),
  },
  (t) => [
    primaryKey({ columns: [t.roomId, t.userId] }),
    // myRooms and the per-user membership checks go from the user to rooms.
    index('memberships_user_idx').on(t.userId, t.roomId),
    // A GROUP room has exactly one OWNER: never two, whatever races.
    uniqueIndex('memberships_owner_key')
      .on(t.roomId)
      .where(sql`${t.role} = 'OWNER'`),
    check('memberships_role', sql`${t.role} in ('OWNER', 'ADMIN', 'MODERATOR', 'MEMBER')`),
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
    /** Who deleted it, when not its author (a moderator); null otherwise. */
    deletedBy: uuid('deleted_by').references(() => users.id, { onDelete: 'set null' }),
    /** Kept by Postgres from the body (English stemming); a tombstone's empty body finds nothing. */
    search: tsvector('search').generatedAlwaysAs(sql`to_tsvector('english', body)`),
    /** The root of the thread this message replies in (a timeline message of the same room); null: not a reply. */
    threadRootId: uuid('thread_root_id').references((): AnyPgColumn => messages.id),
    /** A thread reply that shows in the room's timeline too. */
    showInRoom: boolean('show_in_room').notNull().default(false),
    /**
     * How many timeline messages the room had up to and including this one
     * (rooms.timeline_count as this message left it): the timeline messages
     * after a read position are the room's count minus this number at it.
     */
    timelineNo: integer('timeline_no').notNull().default(0),
    /** Mentioned members, distinct, in the order given (at most 50). */
    mentionIds: uuid('mention_ids')
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    /** @room: every member is mentioned. */
    mentionRoom: boolean('mention_room').notNull().default(false),
    /** When and by whom it was pinned; null: not pinned (deleting a message unpins it). */
    pinnedAt: instant('pinned_at'),
    pinnedBy: uuid('pinned_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [
    // History pages, replay after a cursor and gap fills all read by (room, seq).
    uniqueIndex('messages_room_seq_key').on(t.roomId, t.seq),
    // clientId idempotency: NULL client ids never conflict.
    uniqueIndex('messages_client_id_key').on(t.roomId, t.authorId, t.clientId),
    index('messages_search_idx').using('gin', t.search),
    // One author's timeline messages of a room after a position: what unread
    // counts leave out (the reader's own, those of users they blocked),
    // counted from the index alone where its pages are all-visible.
    index('messages_room_author_seq_idx')
      .on(t.roomId, t.authorId, t.seq)
      .where(sql`${t.threadRootId} is null or ${t.showInRoom}`),
    // A thread's replies in seq order (threadMessages, Thread.unreadCount); only replies are in it.
    index('messages_thread_seq_idx')
      .on(t.threadRootId, t.seq)
      .where(sql`${t.threadRootId} is not null`),
    // @room messages of a room by seq: unread mention counts.
    index('messages_room_mention_idx')
      .on(t.roomId, t.seq)
      .where(sql`${t.mentionRoom}`),
    // Room.pinnedMessages, newest pin first; only pinned messages are in it.
    index('messages_pinned_idx')
      .on(t.roomId, t.pinnedAt)
      .where(sql`${t.pinnedAt} is not null`),
  ],
);

/**
 * One row per thread (a root with at least one reply), updated in the
 * transaction of each reply and of each reply's deletion: Message.thread is
 * read from here, never counted.
 */
export const threads = pgTable(
  'threads',
  {
    rootId: uuid('root_id')
      .primaryKey()
      .references(() => messages.id, { onDelete: 'cascade' }),
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    /** Replies that are not deleted. */
    replyCount: integer('reply_count').notNull().default(0),
    lastReplyAt: instant('last_reply_at').notNull(),
    /** The newest reply's seq (deleted or not): orders a room's threads. */
    lastReplySeq: integer('last_reply_seq').notNull(),
    /** The first repliers, distinct, at most 10. */
    participantIds: uuid('participant_ids').array().notNull(),
  },
  (t) => [
    index('threads_room_last_idx').on(t.roomId, t.lastReplySeq),
    index('threads_last_reply_idx').on(t.lastReplyAt, t.rootId),
  ],
);

/**
 * Who follows a thread and how far they read it. A row stays when its user
 * unsubscribes (subscribed false): the read position is kept.
 */
export const threadFollows = pgTable(
  'thread_follows',
  {
    rootId: uuid('root_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    subscribed: boolean('subscribed').notNull(),
    /** The seq of the last reply read in this thread; 0: none. */
    lastReadSeq: integer('last_read_seq').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.rootId, t.userId] }),
    // A user's followed threads (myThreads), and per room (unread mention counts).
    index('thread_follows_user_room_idx').on(t.userId, t.roomId),
  ],
);

/**
 * Mentions of a member by id (not @room), one row per member and message:
 * written with the message, removed when the message is deleted or an edit
 * drops the mention. Room.unreadMentionCount counts those past the member's
 * read positions over the two partial indexes below (the room's position
 * for timeline messages, the thread's for replies), never the history.
 */
export const mentions = pgTable(
  'mentions',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    authorId: uuid('author_id').notNull(),
    /** The message's thread when it is a reply; null for a timeline message. */
    threadRootId: uuid('thread_root_id'),
    /** Counted against the room's read position (a timeline message, or a reply shown in the room). */
    inTimeline: boolean('in_timeline').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.messageId] }),
    // The author last, so that leaving out blocked authors needs no visit to the rows.
    index('mentions_timeline_idx')
      .on(t.userId, t.roomId, t.seq, t.authorId)
      .where(sql`${t.inTimeline}`),
    index('mentions_thread_idx')
      .on(t.userId, t.threadRootId, t.seq, t.authorId)
      .where(sql`not ${t.inTimeline}`),
    index('mentions_message_idx').on(t.messageId),
  ],
);

/**
 * A file a user asked to attach in a room (createUpload): pending until a
 * sendMessage attaches it (messageId set, in the send's transaction), then
 * one of that message's attachments, in `position` order. Its bytes live in
 * the storage under `key`; an image's thumbnail under `thumbnailKey` once made.
 * Deleting the message deletes the row (and, after the commit, the objects);
 * a pending one is swept after its lifetime.
 */
export const uploads = pgTable(
  'uploads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    filename: text('filename').notNull(),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    /** The object's key in the storage. */
    key: text('key').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    messageId: uuid('message_id').references(() => messages.id, { onDelete: 'cascade' }),
    position: integer('position'),
    width: integer('width'),
    height: integer('height'),
    thumbnailKey: text('thumbnail_key'),
  },
  (t) => [
    // A message's attachments in order.
    index('uploads_message_idx')
      .on(t.messageId, t.position)
      .where(sql`${t.messageId} is not null`),
    // A user's unused uploads (the pending cap), and the sweep of old ones.
    index('uploads_pending_owner_idx')
      .on(t.ownerId)
      .where(sql`${t.messageId} is null`),
    index('uploads_pending_created_idx')
      .on(t.createdAt)
      .where(sql`${t.messageId} is null`),
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

/**
 * Bans (banMember): one row per room and user while it lasts. A row whose
 * expires_at has passed is no ban (compared with the app's clock wherever a
 * ban matters: joining, invitations, Room.bans); unbanMember deletes it and a
 * new ban replaces it.
 */
export const roomBans = pgTable(
  'room_bans',
  {
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    bannedBy: uuid('banned_by')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    reason: text('reason'),
    createdAt: instant('created_at').notNull(),
    /** null: until unbanned. */
    expiresAt: instant('expires_at'),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.userId] }), index('room_bans_expiry_idx').on(t.roomId, t.expiresAt)],
);

/**
 * The moderation log: append-only (rows are only ever inserted, and deleted
 * once older than the retention). `position` orders it (newest first) and
 * pages it; `id` is what clients name an entry by.
 */
export const moderationActions = pgTable(
  'moderation_actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    position: bigint('position', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    kind: text('kind', {
      enum: [
        'ROLE_CHANGED',
        'KICKED',
        'BANNED',
        'UNBANNED',
        'MUTED',
        'UNMUTED',
        'MESSAGE_DELETED',
        'ROOM_UPDATED',
        'REPORT_RESOLVED',
      ],
    }).notNull(),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    targetId: uuid('target_id').references(() => users.id, { onDelete: 'set null' }),
    messageId: uuid('message_id').references(() => messages.id, { onDelete: 'set null' }),
    role: text('role', { enum: ['OWNER', 'ADMIN', 'MODERATOR', 'MEMBER'] }),
    reason: text('reason'),
    expiresAt: instant('expires_at'),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('moderation_actions_room_position_key').on(t.roomId, t.position),
    // The retention sweep deletes by age.
    index('moderation_actions_created_idx').on(t.createdAt),
  ],
);

/** Reports of messages (reportMessage): one per reporter and message. */
export const reports = pgTable(
  'reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    roomId: uuid('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    reporterId: uuid('reporter_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    reason: text('reason', { enum: ['SPAM', 'HARASSMENT', 'HATE', 'SEXUAL', 'VIOLENCE', 'OTHER'] }).notNull(),
    details: text('details'),
    status: text('status', { enum: ['OPEN', 'DISMISSED', 'ACTIONED'] })
      .notNull()
      .default('OPEN'),
    createdAt: instant('created_at').notNull(),
    resolvedBy: uuid('resolved_by').references(() => users.id, { onDelete: 'set null' }),
    resolvedAt: instant('resolved_at'),
  },
  (t) => [
    uniqueIndex('reports_reporter_message_key').on(t.messageId, t.reporterId),
    index('reports_room_status_idx').on(t.roomId, t.status, t.createdAt),
  ],
);

/** Who blocked whom (blockUser). */
export const userBlocks = pgTable(
  'user_blocks',
  {
    blockerId: uuid('blocker_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    blockedId: uuid('blocked_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.blockerId, t.blockedId] }),
    // "Has either blocked the other" reads both directions.
    index('user_blocks_blocked_idx').on(t.blockedId, t.blockerId),
    check('user_blocks_not_self', sql`${t.blockerId} <> ${t.blockedId}`),
  ],
);

/**
 * A browser's Web Push subscription (registerPushSubscription): the push
 * service URL it gave and the keys payloads are encrypted to. One row per
 * endpoint: registering it again (under another user too) replaces it.
 */
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    endpoint: text('endpoint').notNull(),
    /** The browser's P-256 public key, base64url. */
    p256dh: text('p256dh').notNull(),
    /** The browser's authentication secret, base64url. */
    auth: text('auth').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('push_subscriptions_endpoint_key').on(t.endpoint),
    // A user's subscriptions, oldest first: pushes go to all of them, the cap drops the oldest.
    index('push_subscriptions_user_idx').on(t.userId, t.createdAt),
  ],
);

/** What the outbox reports (src/outbox/events.ts gives each its fields). */
export const OUTBOX_EVENT_TYPES = [
  'message.sent',
  'message.edited',
  'message.deleted',
  'member.joined',
  'member.left',
  'member.kicked',
  'member.banned',
  'report.filed',
  'mention',
  'thread.reply',
] as const;

/**
 * The transactional outbox: one row per event, written in the transaction of
 * the change it reports (so it exists exactly when the change committed).
 * No foreign keys: an event outlives the room, message or user it names,
 * and its delivery renders what is still there.
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    type: text('type', { enum: OUTBOX_EVENT_TYPES }).notNull(),
    roomId: uuid('room_id').notNull(),
    /** The message's seq, for message events. */
    seq: bigint('seq', { mode: 'number' }),
    messageId: uuid('message_id'),
    /** The member (member events), the reporter (report.filed). */
    userId: uuid('user_id'),
    /** Who kicked or banned. */
    actorId: uuid('actor_id'),
    reportId: uuid('report_id'),
    /** Small extras of a type: a kick's reason, a ban's expiry, a mention's newly mentioned users. */
    details: jsonb('details').$type<Record<string, unknown>>(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [index('outbox_events_created_idx').on(t.createdAt)],
);

/**
 * One event's delivery to one webhook endpoint: claimed by a worker for a
 * lease (`locked_until`), then delivered, retried at `next_attempt_at`, or
 * dead-lettered (`dead_at`) once its retries are spent.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    eventId: uuid('event_id')
      .notNull()
      .references(() => outboxEvents.id, { onDelete: 'cascade' }),
    endpoint: text('endpoint').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: instant('next_attempt_at').notNull().defaultNow(),
    lockedUntil: instant('locked_until'),
    deliveredAt: instant('delivered_at'),
    deadAt: instant('dead_at'),
    /** The last attempt's HTTP status, or why it had none (`timeout`, `refused: …`, `network: …`). */
    lastStatus: text('last_status'),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.endpoint] }),
    // Workers claim the due rows, oldest first; finished ones are not indexed.
    index('webhook_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.deliveredAt} is null and ${t.deadAt} is null`),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type RoomRow = typeof rooms.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;
/** Every message column but the search document and the timeline ordinal, which only SQL reads. */
const { search: _search, timelineNo: _timelineNo, ...messageColumnsRead } = getTableColumns(messages);
export const messageColumns = messageColumnsRead;
export type MessageRow = Omit<typeof messages.$inferSelect, 'search' | 'timelineNo'>;
export type ReactionRow = typeof reactions.$inferSelect;
export type ThreadRow = typeof threads.$inferSelect;
export type UploadRow = typeof uploads.$inferSelect;
export type ThreadFollowRow = typeof threadFollows.$inferSelect;
export type PushSubscriptionRow = typeof pushSubscriptions.$inferSelect;
export type RoomKind = RoomRow['kind'];
export type RoomVisibility = RoomRow['visibility'];
export type RoomRole = MembershipRow['role'];
export type RoomBanRow = typeof roomBans.$inferSelect;
export type ModerationActionRow = typeof moderationActions.$inferSelect;
export type ModerationActionKind = ModerationActionRow['kind'];
export type ReportRow = typeof reports.$inferSelect;
export type ReportReason = ReportRow['reason'];
export type ReportStatus = ReportRow['status'];
export type OutboxEventRow = typeof outboxEvents.$inferSelect;
export type OutboxEventType = OutboxEventRow['type'];
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

import type { MessageRow } from '../db/schema.js';
import type { ClaimedDelivery, RenderRows } from './outbox.store.js';

/**
 * A webhook's body: `{ type, timestamp, data }`, `data` holding the room,
 * the seq of a message event, and GraphQL-shaped objects (the contract's
 * field names, ids as the API gives them, DateTime as ISO strings). Objects
 * are rendered as they are at delivery: a message deleted before its
 * `message.sent` went out arrives as the tombstone (empty body, deletedAt).
 */
export interface WebhookPayload {
  type: string;
  /** When the event was recorded (its transaction), ISO 8601. */
  timestamp: string;
  data: {
    roomId: string;
    seq?: number;
    message?: RenderedMessage | null;
    member?: RenderedMember;
    report?: RenderedReport | null;
    mentioned?: { users: RenderedUser[]; room: boolean };
  };
}

interface RenderedUser {
  id: string;
  username: string | null;
}

interface RenderedMessage {
  id: string;
  roomId: string;
  seq: number;
  body: string;
  author: RenderedUser;
  clientId: string | null;
  replyTo: { id: string } | null;
  threadRootId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

interface RenderedMember {
  user: RenderedUser;
  /** Who kicked or banned. */
  by?: RenderedUser;
  reason?: string | null;
  expiresAt?: string | null;
}

interface RenderedReport {
  id: string;
  messageId: string;
  reporter: RenderedUser;
  reason: string;
  details: string | null;
  status: string;
  createdAt: string;
}

/** The ids a batch's payloads read. */
export function idsToRender(deliveries: readonly ClaimedDelivery[]) {
  const messageIds = new Set<string>();
  const userIds = new Set<string>();
  const reportIds = new Set<string>();
  for (const delivery of deliveries) {
    if (delivery.messageId) messageIds.add(delivery.messageId);
    if (delivery.userId) userIds.add(delivery.userId);
    if (delivery.actorId) userIds.add(delivery.actorId);
    if (delivery.reportId) reportIds.add(delivery.reportId);
    for (const id of mentionedIds(delivery)) userIds.add(id);
  }
  return { messageIds: [...messageIds], userIds: [...userIds], reportIds: [...reportIds] };
}

export function renderPayload(event: ClaimedDelivery, rows: RenderRows): WebhookPayload {
  const user = (id: string): RenderedUser => ({ id, username: rows.usernames.get(id) ?? null });
  const message = (id: string | null) => {
    const row = id === null ? undefined : rows.messages.get(id);
    return row ? renderMessage(row, user) : null;
  };
  const data: WebhookPayload['data'] = { roomId: event.roomId };
  if (event.seq !== null) data.seq = event.seq;
  switch (event.type) {
    case 'message.sent':
    case 'message.edited':
    case 'message.deleted':
    case 'thread.reply':
      data.message = message(event.messageId);
      break;
    case 'mention':
      data.message = message(event.messageId);
      data.mentioned = { users: mentionedIds(event).map(user), room: event.details?.room === true };
      break;
    case 'member.joined':
    case 'member.left':
      data.member = { user: user(event.userId!) };
      break;
    case 'member.kicked':
    case 'member.banned':
      data.member = {
        user: user(event.userId!),
        by: user(event.actorId!),
        reason: (event.details?.reason as string | null | undefined) ?? null,
        ...(event.type === 'member.banned' ? { expiresAt: (event.details?.expiresAt as string | null | undefined) ?? null } : {}),
      };
      break;
    case 'report.filed': {
      const report = event.reportId ? rows.reports.get(event.reportId) : undefined;
      data.report = report
        ? {
            id: report.id,
            messageId: report.messageId,
            reporter: user(report.reporterId),
            reason: report.reason,
            details: report.details,
            status: report.status,
            createdAt: report.createdAt.toISOString(),
          }
        : null;
      data.message = message(event.messageId);
      break;
    }
  }
  return { type: event.type, timestamp: event.createdAt.toISOString(), data };
}

function renderMessage(row: MessageRow, user: (id: string) => RenderedUser): RenderedMessage {
  return {
    id: row.id,
    roomId: row.roomId,
    seq: row.seq,
    body: row.body,
    author: user(row.authorId),
    clientId: row.clientId,
    replyTo: row.replyToId ? { id: row.replyToId } : null,
    threadRootId: row.threadRootId,
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt?.toISOString() ?? null,
    deletedAt: row.deletedAt?.toISOString() ?? null,
  };
}

function mentionedIds(event: ClaimedDelivery): string[] {
  const ids = event.details?.userIds;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

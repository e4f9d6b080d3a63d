import { inArray, sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../db/client.js';
import {
  messageColumns,
  messages as messagesTable,
  outboxEvents,
  reports,
  users,
  webhookDeliveries,
  type MessageRow,
  type OutboxEventType,
  type ReportRow,
} from '../db/schema.js';
import type { OutboxEvent } from './events.js';

/** A delivery a worker claimed, with its event. */
export interface ClaimedDelivery {
  eventId: string;
  endpoint: string;
  /** This attempt's number, 1 for the first. */
  attempt: number;
  type: OutboxEventType;
  roomId: string;
  seq: number | null;
  messageId: string | null;
  userId: string | null;
  actorId: string | null;
  reportId: string | null;
  details: Record<string, unknown> | null;
  createdAt: Date;
}

interface ClaimedSqlRow {
  event_id: string;
  endpoint: string;
  attempts: number;
  type: OutboxEventType;
  room_id: string;
  seq: string | number | null;
  message_id: string | null;
  user_id: string | null;
  actor_id: string | null;
  report_id: string | null;
  details: Record<string, unknown> | string | null;
  created_at: string | Date;
}

/** What the outbox holds undelivered, for the metrics. */
export interface OutboxBacklog {
  pending: number;
  /** Seconds since the oldest undelivered event was recorded; 0 when none. */
  oldestPendingSeconds: number;
  dead: number;
}

/** The outbox's SQL: recording (in the caller's transaction), claiming and settling deliveries. */
export class OutboxStore {
  constructor(private readonly db: Database) {}

  /** The event and one delivery row per endpoint, on `tx` (the transaction of the change). */
  static async record(tx: Database, event: OutboxEvent, endpoints: readonly string[]): Promise<void> {
    const [row] = await tx
      .insert(outboxEvents)
      .values({
        type: event.type,
        roomId: event.roomId,
        seq: 'seq' in event ? event.seq : null,
        messageId: 'messageId' in event ? event.messageId : null,
        userId: 'userId' in event ? event.userId : null,
        actorId: 'actorId' in event ? event.actorId : null,
        reportId: 'reportId' in event ? event.reportId : null,
        details: detailsOf(event),
      })
      .returning({ id: outboxEvents.id });
    await tx.insert(webhookDeliveries).values(endpoints.map((endpoint) => ({ eventId: row!.id, endpoint })));
  }

  /**
   * Claims up to `limit` due deliveries to these endpoints for `leaseMs`,
   * counting the attempt. SKIP LOCKED lets workers of several instances
   * claim at once without waiting on each other or taking the same row; the
   * lease, committed with the claim, keeps the row from others while it is
   * delivered, and lapses if this instance dies before settling it.
   */
  async claim(endpoints: readonly string[], limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (endpoints.length === 0) return [];
    const result = await this.db.execute(sql`
      with due as (
        select event_id, endpoint from webhook_deliveries
        where delivered_at is null and dead_at is null and next_attempt_at <= now()
          and (locked_until is null or locked_until <= now())
          and endpoint in (select jsonb_array_elements_text(${JSON.stringify(endpoints)}::jsonb))
        order by next_attempt_at
        limit ${limit}
        for update skip locked
      )
      update webhook_deliveries d
      set locked_until = now() + make_interval(secs => ${leaseMs / 1000}), attempts = d.attempts + 1
      from due, outbox_events e
      where d.event_id = due.event_id and d.endpoint = due.endpoint and e.id = d.event_id
      returning d.event_id, d.endpoint, d.attempts, e.type, e.room_id, e.seq, e.message_id, e.user_id, e.actor_id,
        e.report_id, e.details, e.created_at`);
    return rowsOf<ClaimedSqlRow>(result).map((row) => ({
      eventId: row.event_id,
      endpoint: row.endpoint,
      attempt: row.attempts,
      type: row.type,
      roomId: row.room_id,
      seq: row.seq === null ? null : Number(row.seq),
      messageId: row.message_id,
      userId: row.user_id,
      actorId: row.actor_id,
      reportId: row.report_id,
      details: typeof row.details === 'string' ? (JSON.parse(row.details) as Record<string, unknown>) : row.details,
      createdAt: new Date(row.created_at),
    }));
  }

  /**
   * Settles a pass's delivered rows in one statement: under load every
   * statement of the worker waits for a pool connection behind the sends'
   * transactions, so one per row made the pass as slow as its slowest wait.
   */
  async delivered(settled: ReadonlyArray<{ delivery: ClaimedDelivery; status: string }>): Promise<void> {
    if (settled.length === 0) return;
    const rows = settled.map(({ delivery, status }) => ({ event_id: delivery.eventId, endpoint: delivery.endpoint, status }));
    await this.db.execute(sql`
      update webhook_deliveries d set delivered_at = now(), locked_until = null, last_status = v.status
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(event_id uuid, endpoint text, status text)
      where d.event_id = v.event_id and d.endpoint = v.endpoint`);
  }

  /** Tried again in `retryInMs`, or dead-lettered (null). */
  async failed(delivery: ClaimedDelivery, status: string, retryInMs: number | null): Promise<void> {
    await this.db.execute(
      retryInMs === null
        ? sql`update webhook_deliveries set dead_at = now(), locked_until = null, last_status = ${status}
            where event_id = ${delivery.eventId} and endpoint = ${delivery.endpoint}`
        : sql`update webhook_deliveries
            set next_attempt_at = now() + make_interval(secs => ${retryInMs / 1000}), locked_until = null,
              last_status = ${status}
            where event_id = ${delivery.eventId} and endpoint = ${delivery.endpoint}`,
    );
  }

  /** Deletes these events and their deliveries (a consumer that keeps nothing once handled: the push queue). */
  async discard(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.db.delete(outboxEvents).where(inArray(outboxEvents.id, [...eventIds]));
  }

  /**
   * Deletes up to `limit` events older than `olderThanMs` whose every
   * delivery was delivered (dead letters and pending ones stay); how many.
   */
  async sweepDelivered(olderThanMs: number, limit: number): Promise<number> {
    const result = await this.db.execute(sql`
      delete from outbox_events where id in (
        select e.id from outbox_events e
        where e.created_at < now() - make_interval(secs => ${olderThanMs / 1000})
          and not exists (select 1 from webhook_deliveries d where d.event_id = e.id and d.delivered_at is null)
        limit ${limit})
      returning id`);
    return rowsOf(result).length;
  }

  /** The webhooks' backlog (the push queue's rows are not webhooks: its endpoint is not a URL). */
  async backlog(): Promise<OutboxBacklog> {
    const result = await this.db.execute(sql`
      select
        count(*) filter (where d.delivered_at is null and d.dead_at is null) as pending,
        coalesce(extract(epoch from now() - min(e.created_at) filter (where d.delivered_at is null and d.dead_at is null)), 0)
          as oldest,
        count(*) filter (where d.dead_at is not null) as dead
      from webhook_deliveries d join outbox_events e on e.id = d.event_id
      where d.endpoint like 'http%'`);
    const [row] = rowsOf<{ pending: string | number; oldest: string | number; dead: string | number }>(result);
    return { pending: Number(row?.pending ?? 0), oldestPendingSeconds: Number(row?.oldest ?? 0), dead: Number(row?.dead ?? 0) };
  }
}

/** What a payload is rendered from, read once per batch of deliveries. */
export interface RenderRows {
  messages: Map<string, MessageRow>;
  usernames: Map<string, string>;
  reports: Map<string, ReportRow>;
}

/** The rows the events name, as they are now (each id read once). */
export async function readRenderRows(
  db: Database,
  ids: { messageIds: string[]; userIds: string[]; reportIds: string[] },
): Promise<RenderRows> {
  const [messageRows, reportRows] = await Promise.all([
    ids.messageIds.length === 0
      ? []
      : db.select(messageColumns).from(messagesTable).where(inArray(messagesTable.id, ids.messageIds)),
    ids.reportIds.length === 0 ? [] : db.select().from(reports).where(inArray(reports.id, ids.reportIds)),
  ]);
  const userIds = new Set(ids.userIds);
  for (const message of messageRows) userIds.add(message.authorId);
  for (const report of reportRows) userIds.add(report.reporterId);
  const userRows =
    userIds.size === 0
      ? []
      : await db
          .select({ id: users.id, username: users.username })
          .from(users)
          .where(inArray(users.id, [...userIds]));
  return {
    messages: new Map(messageRows.map((row) => [row.id, row])),
    usernames: new Map(userRows.map((row) => [row.id, row.username])),
    reports: new Map(reportRows.map((row) => [row.id, row])),
  };
}

function detailsOf(event: OutboxEvent): Record<string, unknown> | null {
  switch (event.type) {
    case 'mention':
      return { userIds: [...event.userIds], room: event.room };
    case 'member.kicked':
    case 'member.banned':
      return { reason: event.reason, expiresAt: event.expiresAt?.toISOString() ?? null };
    default:
      return null;
  }
}

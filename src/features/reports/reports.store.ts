import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { reports, type ReportReason, type ReportRow, type ReportStatus } from '../../db/schema.js';
import { noOutbox, type Outbox } from '../../outbox/outbox.js';

export interface NewReport {
  roomId: string;
  messageId: string;
  reporterId: string;
  reason: ReportReason;
  details: string | null;
}

export class ReportsStore {
  /** @param outbox where a filed report is recorded, in the transaction that files it */
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox = noOutbox,
  ) {}

  /** One report per reporter and message: a repeat answers the first (`filed` false). */
  async file(report: NewReport, now: Date): Promise<{ report: ReportRow; filed: boolean }> {
    const insert = async (db: Database) => {
      const [inserted] = await db
        .insert(reports)
        .values({ ...report, createdAt: now })
        .onConflictDoNothing({ target: [reports.messageId, reports.reporterId] })
        .returning();
      if (inserted) {
        const { roomId, messageId, reporterId: userId } = report;
        await this.outbox.record(db, { type: 'report.filed', roomId, reportId: inserted.id, messageId, userId });
      }
      return inserted;
    };
    // One statement without webhooks; with them, in a transaction with its outbox row.
    const inserted = this.outbox.enabled ? await this.db.transaction(insert) : await insert(this.db);
    if (inserted) return { report: inserted, filed: true };
    const [first] = await this.db
      .select()
      .from(reports)
      .where(and(eq(reports.messageId, report.messageId), eq(reports.reporterId, report.reporterId)));
    return { report: first!, filed: false };
  }

  /** A room's reports of one status, oldest first. */
  list(roomId: string, status: ReportStatus, first: number): Promise<ReportRow[]> {
    return this.db
      .select()
      .from(reports)
      .where(and(eq(reports.roomId, roomId), eq(reports.status, status)))
      .orderBy(asc(reports.createdAt), asc(reports.id))
      .limit(first);
  }

  async findByIds(ids: readonly string[]): Promise<ReportRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(reports)
      .where(inArray(reports.id, [...ids]));
  }

  /**
   * Sets the report's status (and who resolved it, when) and runs
   * `alongside` in the same transaction (the log entry); null when it
   * already had that status (nothing to change or log).
   */
  async resolve(
    id: string,
    status: Exclude<ReportStatus, 'OPEN'>,
    resolverId: string,
    now: Date,
    alongside: (tx: Database, report: ReportRow) => Promise<void>,
  ): Promise<ReportRow | null> {
    return this.db.transaction(async (tx) => {
      const [before] = await tx.select().from(reports).where(eq(reports.id, id)).for('update');
      if (!before || before.status === status) return null;
      const [row] = await tx
        .update(reports)
        .set({ status, resolvedBy: resolverId, resolvedAt: now })
        .where(eq(reports.id, id))
        .returning();
      await alongside(tx, row!);
      return row!;
    });
  }
}

import type { Viewer } from '../../auth/viewer.js';
import type { Clock } from '../../clock.js';
import type { ReportReason, ReportRow, ReportStatus } from '../../db/schema.js';
import { badInput, forbidden, notFound } from '../../errors.js';
import type { Publisher } from '../../realtime/publisher.js';
import { requireId, requireLength } from '../../validation.js';
import type { MessagesService } from '../messages/messages.service.js';
import { PAGE_DEFAULT, PAGE_MAX, REPORT_DETAILS_MAX_CHARACTERS } from '../moderation/moderation.limits.js';
import type { ModerationService } from '../moderation/moderation.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { ReportsStore } from './reports.store.js';

/**
 * Members report messages; MODERATOR and above see the reports (a query,
 * and ReportFiled on roomEvents, which each feed delivers only to the
 * room's moderators of the moment) and resolve them, which is logged.
 */
export class ReportsService {
  constructor(
    private readonly deps: {
      store: ReportsStore;
      messages: MessagesService;
      rooms: RoomsService;
      moderation: ModerationService;
      publish: Publisher;
      clock: Clock;
    },
  ) {}

  async report(viewer: Viewer, messageId: string, reason: ReportReason, details: string | null | undefined): Promise<ReportRow> {
    if (details != null) requireLength('details', details, 0, REPORT_DETAILS_MAX_CHARACTERS);
    const { message, room } = await this.deps.messages.requireMessage(viewer, messageId);
    if (room.kind === 'DIRECT') throw forbidden('A DIRECT room has no moderators to report to: block the user instead');
    if (message.authorId === viewer.userId) throw badInput('You cannot report your own message', 'messageId');
    const { report, filed } = await this.deps.store.file(
      { roomId: room.id, messageId: message.id, reporterId: viewer.userId, reason, details: details || null },
      this.deps.clock.now(),
    );
    if (filed) this.deps.publish.room(room.id, { type: 'report', reportId: report.id, audience: 'moderators' });
    return report;
  }

  async list(viewer: Viewer, roomId: string, status: ReportStatus | null | undefined, first: number | null | undefined) {
    const count = first ?? PAGE_DEFAULT;
    if (count < 1 || count > PAGE_MAX) throw badInput(`first must be 1-${PAGE_MAX}`, 'first');
    const { room } = await this.deps.moderation.requireModerator(viewer, roomId);
    return this.deps.store.list(room.id, status ?? 'OPEN', count);
  }

  async resolve(viewer: Viewer, reportId: string, status: ReportStatus): Promise<ReportRow> {
    if (status === 'OPEN') throw badInput('A report is resolved as DISMISSED or ACTIONED', 'status');
    const [report] = await this.deps.store.findByIds([requireId(reportId, 'Report')]);
    if (!report) throw notFound('Report');
    await this.deps.moderation.requireModerator(viewer, report.roomId);
    const [message] = await this.deps.messages.findByIds([report.messageId]);
    let action = null;
    const resolved = await this.deps.store.resolve(report.id, status, viewer.userId, this.deps.clock.now(), async (tx, row) => {
      action = await this.deps.moderation.record(tx, {
        roomId: row.roomId,
        kind: 'REPORT_RESOLVED',
        actorId: viewer.userId,
        targetId: message?.authorId ?? null,
        messageId: row.messageId,
        reason: status,
      });
    });
    if (action) this.deps.moderation.announce(action);
    return resolved ?? (await this.deps.store.findByIds([report.id]))[0] ?? report;
  }

  /**
   * Report.details: for its reporter and the room's MODERATOR and above;
   * null for anyone else (a report never reaches a plain member, and its
   * details would not even then).
   */
  async detailsFor(viewer: Viewer | null, report: ReportRow): Promise<string | null> {
    if (!viewer) return null;
    if (viewer.userId === report.reporterId) return report.details;
    const membership = await this.deps.rooms.membership(report.roomId, viewer.userId);
    const room = await this.deps.rooms.requireRoom(report.roomId);
    return this.deps.moderation.may('moderate', room, membership?.role ?? null) ? report.details : null;
  }

  findByIds(ids: readonly string[]) {
    return this.deps.store.findByIds(ids);
  }
}

import { defineFeature } from '../feature.js';
import type { MessagesService } from '../messages/messages.service.js';
import { PAGE_DEFAULT, PAGE_MAX } from '../moderation/moderation.limits.js';
import type { ModerationService } from '../moderation/moderation.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { createReportsLoaders } from './reports.loaders.js';
import { reportsResolvers } from './reports.resolvers.js';
import { ReportsService } from './reports.service.js';
import { ReportsStore } from './reports.store.js';

/** Reports of messages, for the room's moderators to review and resolve. */
export const reportsFeature = defineFeature({
  name: 'reports',
  resolvers: reportsResolvers,
  mappers: { Report: 'ReportModel', ReportFiled: 'ReportFiledPayload' },
  services: (
    { db, realtime, clock, outbox },
    { messages, rooms, moderation }: { messages: MessagesService; rooms: RoomsService; moderation: ModerationService },
  ) => ({
    reports: new ReportsService({
      store: new ReportsStore(db, outbox),
      messages,
      rooms,
      moderation,
      publish: realtime.publish,
      clock,
    }),
  }),
  loaders: ({ reports }) => createReportsLoaders(reports),
  listSizes: { 'Query.reports': { unasked: PAGE_DEFAULT, atMost: PAGE_MAX } },
});

import { requireViewer } from '../../auth/viewer.js';
import type { Resolvers } from '../../generated/graphql.js';
import type { ReportFiledPayload } from './reports.mappers.js';

export const reportsResolvers: Resolvers = {
  Query: {
    reports: (_, { roomId, status, first }, { viewer, services }) =>
      services.reports.list(requireViewer(viewer), roomId, status, first),
  },
  Mutation: {
    reportMessage: (_, { messageId, reason, details }, { viewer, services }) =>
      services.reports.report(requireViewer(viewer), messageId, reason, details),
    resolveReport: (_, { reportId, status }, { viewer, services }) =>
      services.reports.resolve(requireViewer(viewer), reportId, status),
  },
  Report: {
    message: async (report, _, { loaders }) => (await loaders.message.load(report.messageId))!,
    reporter: async (report, _, { loaders }) => (await loaders.user.load(report.reporterId))!,
    details: (report, _, { viewer, services }) => services.reports.detailsFor(viewer, report),
    resolvedBy: (report, _, { loaders }) => (report.resolvedBy ? loaders.user.load(report.resolvedBy) : null),
  },
  ReportFiled: {
    report: async (event: ReportFiledPayload, _, { loaders }) => (await loaders.report.load(event.reportId))!,
  },
};

import type { ReportRow } from '../../db/schema.js';

/** What resolvers of Report get: the report's row. */
export type ReportModel = ReportRow;

/** What roomEvents yields for a report filed: its id, read when rendered (for moderators only). */
export interface ReportFiledPayload {
  __typename: 'ReportFiled';
  reportId: string;
}

import DataLoader from 'dataloader';
import type { ReportRow } from '../../db/schema.js';
import type { ReportsService } from './reports.service.js';

export interface ReportsLoaders {
  report: DataLoader<string, ReportRow | null>;
}

export function createReportsLoaders(reports: ReportsService): ReportsLoaders {
  return {
    report: new DataLoader(async (ids) => {
      const rows = new Map((await reports.findByIds(ids)).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id) ?? null);
    }),
  };
}

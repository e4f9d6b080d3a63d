import type { EnvReader } from '../env-reader.js';

export interface MetricsConfig {
  /** `METRICS`: GET /metrics serves Prometheus text; false: 404 and nothing counted. */
  readonly enabled: boolean;
  /** `METRICS_TOKEN`: when set, /metrics wants `Authorization: Bearer <it>` (401 otherwise); unset: open. */
  readonly token: string | null;
}

export function parseMetricsConfig({ value, problems }: EnvReader): { metrics: MetricsConfig } {
  const text = value('METRICS') ?? 'true';
  if (text !== 'true' && text !== 'false') problems.push(`METRICS must be true or false, got "${text}"`);
  const token = value('METRICS_TOKEN') ?? null;
  if (token !== null && token.length < 16) problems.push('METRICS_TOKEN must be at least 16 characters');
  return { metrics: Object.freeze({ enabled: text !== 'false', token }) };
}

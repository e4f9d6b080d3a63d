import { expect } from 'vitest';
import type { App } from './server.js';

/** One sample line of the Prometheus text format: `name{label="value",…} value` (prom-client writes NaN as "Nan", which Prometheus reads). */
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|[Nn]a[Nn]|[+-]Inf)$/;

/** GET /metrics, checked line by line as Prometheus text, as samples by `name{labels}`. */
export async function scrape(app: App): Promise<Map<string, number>> {
  const response = await fetch(`${app.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = SAMPLE.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    samples.set(`${match![1]}${match![2] ?? ''}`, Number(match![3]));
  }
  return samples;
}

export const value = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0;
export const moved = (before: Map<string, number>, after: Map<string, number>, key: string) =>
  value(after, key) - value(before, key);

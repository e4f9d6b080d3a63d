/** Small numeric helpers shared by the orchestrator and its children. */

/** Wall-clock milliseconds since the epoch, sub-millisecond, comparable across processes on one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** A growable array of float64 samples (latencies in ms), cheap to append to and to send over IPC. */
export class Samples {
  private data = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  values(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

export interface Percentiles {
  count: number;
  min: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** Nearest-rank percentiles over every sample (no sampling, no histogram). */
export function percentiles(...parts: Float64Array[]): Percentiles {
  const count = parts.reduce((n, p) => n + p.length, 0);
  if (count === 0) return { count: 0, min: null, p50: null, p95: null, p99: null, max: null, mean: null };
  const all = new Float64Array(count);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  all.sort();
  const rank = (q: number) => all[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))]!;
  let sum = 0;
  for (const v of all) sum += v;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    count,
    min: round(all[0]!),
    p50: round(rank(0.5)),
    p95: round(rank(0.95)),
    p99: round(rank(0.99)),
    max: round(all[count - 1]!),
    mean: round(sum / count),
  };
}

/** Mulberry32: a small seeded RNG, so room layouts repeat from run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A message body of exactly `bytes` ASCII characters that starts with its send time: `t=<epoch ms>;`. */
export function stampedBody(bytes: number, sentAt = nowMs()): string {
  const head = `t=${sentAt.toFixed(3)};`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

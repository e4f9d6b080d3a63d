/** Multiples of WEBHOOK_RETRY_BASE_MS: with its default of 5 s, 5 s, 30 s, 2 min, 10 min, 30 min, then hourly. */
const SCHEDULE = [1, 6, 24, 120, 360, 720] as const;

/**
 * The delay before attempt `attempt + 1`, after `attempt` failed: the
 * schedule's step, the last one repeated, with ±20 % jitter so endpoints
 * that fail together are not retried in lockstep. `random` is for tests.
 */
export function retryDelayMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const step = SCHEDULE[Math.min(Math.max(attempt, 1), SCHEDULE.length) - 1]!;
  return Math.round(step * baseMs * (0.8 + 0.4 * random()));
}

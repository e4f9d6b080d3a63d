/**
 * setTimeout's limit (2^31-1 ms, about 24.8 days): Node runs a longer delay
 * after 1 ms instead, with a TimeoutOverflowWarning.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface Timer {
  cancel(): void;
}

/**
 * Runs `fn` once at the instant `at` (ms since the epoch), however far away:
 * a chain of timeouts of at most MAX_TIMEOUT_MS, each re-reading the clock.
 * Never synchronously, even for an instant already past. The timers are
 * unref'd: nothing waits for them.
 */
export function timerAt(at: number, fn: () => void, now: () => number = () => Date.now()): Timer {
  let handle: NodeJS.Timeout | null = null;
  const arm = () => {
    handle = setTimeout(tick, Math.min(Math.max(at - now(), 0), MAX_TIMEOUT_MS));
    handle.unref();
  };
  const tick = () => {
    if (at - now() > 0) return arm();
    handle = null;
    fn();
  };
  arm();
  return {
    cancel() {
      if (handle) clearTimeout(handle);
      handle = null;
    },
  };
}

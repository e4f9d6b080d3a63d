import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_MS, timerAt } from '../../src/transport/timer-at.js';

const DAY = 86_400_000;

describe('timerAt', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at an instant 30 days away, past the 24.8-day limit of setTimeout, and not a millisecond earlier', () => {
    const fired = vi.fn();
    const at = Date.now() + 30 * DAY;
    timerAt(at, fired);
    vi.advanceTimersByTime(MAX_TIMEOUT_MS);
    expect(fired).not.toHaveBeenCalled(); // a single setTimeout would have overflowed (fired at once) or never been set
    vi.advanceTimersByTime(at - Date.now() - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(Date.now()).toBe(at);
    vi.advanceTimersByTime(100 * DAY);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('fires at a near instant after exactly its delay', () => {
    const fired = vi.fn();
    timerAt(Date.now() + 1500, fired);
    vi.advanceTimersByTime(1499);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('fires an instant already past on the next turn, never synchronously', () => {
    const fired = vi.fn();
    timerAt(Date.now() - 10, fired);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('can be cancelled in any link of the chain', () => {
    const fired = vi.fn();
    const timer = timerAt(Date.now() + 60 * DAY, fired);
    vi.advanceTimersByTime(MAX_TIMEOUT_MS + DAY); // into the second link
    timer.cancel();
    vi.advanceTimersByTime(100 * DAY);
    expect(fired).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('follows the clock: a timer whose chunk ends early re-arms for what is left', () => {
    let clock = 0;
    const fired = vi.fn();
    timerAt(3 * MAX_TIMEOUT_MS, fired, () => clock);
    for (let i = 0; i < 2; i++) {
      clock += MAX_TIMEOUT_MS;
      vi.advanceTimersByTime(MAX_TIMEOUT_MS);
    }
    expect(fired).not.toHaveBeenCalled();
    clock += MAX_TIMEOUT_MS;
    vi.advanceTimersByTime(MAX_TIMEOUT_MS);
    expect(fired).toHaveBeenCalledTimes(1);
  });
});

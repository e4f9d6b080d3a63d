import type { Clock } from './server.js';

/**
 * A clock that tests move forward: the system's time plus whatever was
 * advanced. Give the same one to both instances of a test, and "a ban of
 * 60 s lapses by itself" is checked by advancing 60 s, not by waiting.
 * (It never runs behind the system's time, so nothing the server leaves to
 * real time, such as a Redis key's expiry, ends before the clock says.)
 */
export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error('a TestClock only moves forward');
    this.offsetMs += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }
}

import { describe, expect, it } from 'vitest';
import { clientIp } from '../../src/limits/client-ip.js';
import { retryAfterSeconds, WindowCounter } from '../../src/limits/rate-limits.js';
import { parseRate } from '../../src/limits/rate.js';

describe('parseRate', () => {
  it('reads N/window with s, m, h or d (seconds without a unit)', () => {
    expect(parseRate('100/10s')).toEqual({ points: 100, seconds: 10 });
    expect(parseRate('10/15m')).toEqual({ points: 10, seconds: 900 });
    expect(parseRate('20/1h')).toEqual({ points: 20, seconds: 3600 });
    expect(parseRate('3/1d')).toEqual({ points: 3, seconds: 86_400 });
    expect(parseRate('7/30')).toEqual({ points: 7, seconds: 30 });
    expect(parseRate('5/s')).toEqual({ points: 5, seconds: 1 });
    expect(parseRate(' 5 / 2s ')).toEqual({ points: 5, seconds: 2 });
  });

  it('refuses anything else, zero points and an empty window', () => {
    for (const text of ['', '100', '/10s', '100/', '0/10s', '10/0s', '1.5/10s', '10/1w', '-1/10s', 'ten/10s', '10/10s/2']) {
      expect(parseRate(text), text).toBeNull();
    }
  });
});

describe('clientIp', () => {
  it('is the socket peer with TRUST_PROXY=0, whatever X-Forwarded-For says', () => {
    expect(clientIp('203.0.113.9', '10.0.0.1', 0)).toBe('203.0.113.9');
    expect(clientIp('::ffff:127.0.0.1', undefined, 0)).toBe('127.0.0.1');
    expect(clientIp(undefined, undefined, 0)).toBe('unknown');
  });

  it('believes as many entries from the right as there are trusted hops', () => {
    expect(clientIp('10.0.0.254', '198.51.100.1', 1)).toBe('198.51.100.1');
    expect(clientIp('10.0.0.254', '6.6.6.6, 198.51.100.1', 1)).toBe('198.51.100.1');
    expect(clientIp('10.0.0.254', ['6.6.6.6, 198.51.100.1', '10.0.0.2'], 2)).toBe('198.51.100.1');
    expect(clientIp('10.0.0.254', '198.51.100.1', 5)).toBe('198.51.100.1'); // fewer hops than trusted: the leftmost
    expect(clientIp('10.0.0.254', undefined, 1)).toBe('10.0.0.254');
    expect(clientIp('10.0.0.254', ' , ', 1)).toBe('10.0.0.254');
  });
});

describe('WindowCounter', () => {
  it('allows the window’s points, refuses the rest, and starts over when the window ends', () => {
    const counter = new WindowCounter({ points: 2, seconds: 10 });
    expect([counter.take(0), counter.take(1), counter.take(9_999)]).toEqual([true, true, false]);
    expect([counter.take(10_000), counter.take(10_001), counter.take(10_002)]).toEqual([true, true, false]);
  });
});

describe('retryAfterSeconds', () => {
  it('rounds up to whole seconds, at least 1', () => {
    expect([0, 1, 999, 1000, 1001, 14_500].map(retryAfterSeconds)).toEqual([1, 1, 1, 1, 2, 15]);
  });
});

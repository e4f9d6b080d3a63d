import { describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../../src/outbox/destination.js';
import { retryDelayMs } from '../../src/outbox/retries.js';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::',
    '::1',
    'fe80::1',
    'fd00::1',
    'fc12::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::10.0.0.1',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('refuses what is not an address at all', () => {
    expect(isPrivateAddress('localhost')).toBe(true);
  });
});

describe('retryDelayMs', () => {
  it('follows 5 s, 30 s, 2 min, 10 min, 30 min, then 1 h with the default base, without jitter at its middle', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 30].map((attempt) => retryDelayMs(attempt, 5000, middle))).toEqual([
      5000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 3_600_000, 3_600_000,
    ]);
  });

  it('jitters within ±20 %', () => {
    expect(retryDelayMs(2, 5000, () => 0)).toBe(24_000);
    expect(retryDelayMs(2, 5000, () => 1)).toBe(36_000);
  });
});

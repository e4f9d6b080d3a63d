import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, MAX_SEQ } from '../../src/features/messages/cursors.js';
import { codePoints, requireLength } from '../../src/validation.js';

const room = '0b7e3c1a-1111-4c39-9a53-0a3f1f1c2b11';
const other = '9c1f0e52-2222-4c39-9a53-0a3f1f1c2b11';
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { extensions?: { code?: string } }).extensions?.code;
  }
  return null;
};

describe('message cursors', () => {
  it('round-trip a seq within its room and are opaque (URL-safe, no visible seq)', () => {
    const cursor = encodeCursor(room, 42);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, room)).toBe(42);
  });

  it('refuse a cursor of another room and garbage with BAD_USER_INPUT', () => {
    expect(codeOf(() => decodeCursor(encodeCursor(other, 1), room))).toBe('BAD_USER_INPUT');
    for (const junk of [
      '',
      'abc',
      '!!!',
      Buffer.from('v1:x:1').toString('base64url'),
      Buffer.from(`v1:${room}:-1`).toString('base64url'),
    ]) {
      expect(codeOf(() => decodeCursor(junk, room))).toBe('BAD_USER_INPUT');
    }
  });

  it('carry seqs 0..2^31-1 (a Postgres integer) and refuse any beyond with BAD_USER_INPUT', () => {
    expect(MAX_SEQ).toBe(2 ** 31 - 1);
    expect(decodeCursor(encodeCursor(room, 0), room)).toBe(0);
    expect(decodeCursor(encodeCursor(room, MAX_SEQ), room)).toBe(MAX_SEQ);
    for (const seq of [2 ** 31, 9_999_999_999]) {
      expect(codeOf(() => decodeCursor(Buffer.from(`v1:${room}:${seq}`).toString('base64url'), room))).toBe('BAD_USER_INPUT');
    }
  });
});

describe('lengths in code points', () => {
  it('counts astral characters once', () => {
    expect(codePoints('😀😀')).toBe(2);
    expect(codePoints('abc')).toBe(3);
  });
  it('rejects a lone surrogate with BAD_USER_INPUT, a well-formed pair not', () => {
    expect(codeOf(() => requireLength('clientId', 'c\uDFFF', 1, 10))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => requireLength('clientId', '\uD83Dc', 1, 10))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => requireLength('clientId', 'c\uFFFD', 1, 10))).toBeNull();
    expect(codeOf(() => requireLength('clientId', 'c\uD83D\uDE00', 1, 10))).toBeNull();
  });
  it('rejects NUL with BAD_USER_INPUT', () => {
    expect(codeOf(() => requireLength('body', 'a\u0000b', 1, 10))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => requireLength('body', '😀'.repeat(10), 1, 10))).toBeNull();
    expect(codeOf(() => requireLength('body', '😀'.repeat(11), 1, 10))).toBe('BAD_USER_INPUT');
  });
});

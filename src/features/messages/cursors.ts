import { badInput } from '../../errors.js';
import { isId } from '../../validation.js';

/**
 * The largest seq: seqs are Postgres `integer`s. A forged cursor past it
 * must be refused before it reaches SQL, where it overflows int4 (embedded
 * PGlite went into an endless loop on one).
 */
export const MAX_SEQ = 2 ** 31 - 1;

/**
 * Message cursors are opaque to clients: base64url of "v1:<roomId>:<seq>".
 * The room id makes a cursor from another room an error rather than a silent
 * jump to the same seq elsewhere. A cursor's seq is 0..MAX_SEQ.
 */
export function encodeCursor(roomId: string, seq: number): string {
  return Buffer.from(`v1:${roomId}:${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, roomId: string, field = 'cursor'): number {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^v1:([^:]+):(\d{1,10})$/.exec(text);
  if (!match || !isId(match[1]!) || Number(match[2]) > MAX_SEQ) {
    throw badInput(`${field} is not a valid message cursor`, field);
  }
  if (match[1]!.toLowerCase() !== roomId.toLowerCase()) throw badInput(`${field} belongs to another room`, field);
  return Number(match[2]);
}

import { badInput, notFound } from './errors.js';

/** The contract counts lengths in Unicode code points. */
export const codePoints = (text: string) => [...text].length;

/**
 * BAD_USER_INPUT unless `value` has min..max code points. NUL is refused too:
 * Postgres text cannot store it, and it has no place in chat text.
 */
export function requireLength(field: string, value: string, min: number, max: number): void {
  const length = codePoints(value);
  if (length < min || length > max) {
    throw badInput(`${field} must be ${min}-${max} characters, got ${length}`, field);
  }
  if (value.includes('\u0000')) throw badInput(`${field} must not contain NUL characters`, field);
}

export function requireCount(field: string, value: number, max: number): void {
  if (value < 0) throw badInput(`${field} must not be negative`, field);
  if (value > max) throw badInput(`${field} must be at most ${max}`, field);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are UUIDs; anything else cannot name an existing row. */
export const isId = (id: string) => UUID.test(id);

/** NOT_FOUND for an id that cannot exist, before it reaches SQL (where it would be a type error). */
export function requireId(id: string, what: string): string {
  if (!isId(id)) throw notFound(what);
  return id.toLowerCase();
}

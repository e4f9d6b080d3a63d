import { badInput, notFound } from './errors.js';

/** The contract counts lengths in Unicode code points. */
export const codePoints = (text: string) => [...text].length;

/**
 * BAD_USER_INPUT for text that is not well-formed UTF-16: a lone surrogate
 * would be stored as U+FFFD (the drivers encode text as UTF-8), so two
 * different inputs would become one (clientIds `c\uDFFF` and `c\uFFFD`
 * collided). For every string that is stored or compared.
 */
export function requireWellFormed(field: string, value: string): void {
  // String.prototype.isWellFormed is in Node 20; the project's TypeScript lib (ES2023) does not declare it.
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw badInput(`${field} must be well-formed Unicode text (it holds a lone surrogate)`, field);
  }
}

/** BAD_USER_INPUT unless `value` is well-formed text of min..max code points. */
export function requireCharacters(field: string, value: string, min: number, max: number): void {
  // A code point is one or two UTF-16 units: past 2 * max units the text is too long, uncounted.
  const length = value.length > max * 2 ? null : codePoints(value);
  if (length === null || length < min || length > max) {
    throw badInput(`${field} must be ${min}-${max} characters, got ${length ?? `more than ${max}`}`, field);
  }
  requireWellFormed(field, value);
}

/**
 * requireCharacters, and NUL refused too: Postgres text cannot store it, and
 * it has no place in chat text.
 */
export function requireLength(field: string, value: string, min: number, max: number): void {
  requireCharacters(field, value, min, max);
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

/**
 * Postgres reports constraint violations with a SQLSTATE and the constraint's
 * name. drizzle wraps driver errors (DrizzleQueryError), so walk the causes.
 * postgres.js names the field `constraint_name`, PGlite `constraint`.
 */
export interface PgErrorInfo {
  code: string;
  constraint: string | undefined;
}

export function pgError(error: unknown): PgErrorInfo | null {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: unknown; constraint_name?: unknown; constraint?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      const constraint = e.constraint_name ?? e.constraint;
      return { code: e.code, constraint: typeof constraint === 'string' ? constraint : undefined };
    }
    current = e.cause;
  }
  return null;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const info = pgError(error);
  return info?.code === UNIQUE_VIOLATION && (constraint === undefined || info.constraint === constraint);
}

export function isForeignKeyViolation(error: unknown): boolean {
  return pgError(error)?.code === FOREIGN_KEY_VIOLATION;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

const IOREDIS_UNAVAILABLE = ["isn't writeable and enableOfflineQueue options is false", 'Connection is closed.'];

/**
 * True for errors that mean "the database (or Redis) cannot be reached right
 * now" rather than "this query is wrong": they become SERVICE_UNAVAILABLE.
 * SQLSTATE class 08 is connection exceptions, 57P0x is admin shutdown / crash.
 */
export function isUnavailableError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown; originalError?: unknown };
    if (
      e.name === 'DeadlineError' ||
      e.name === 'GateTimeoutError' ||
      e.name === 'CircuitOpenError' ||
      e.name === 'MaxRetriesPerRequestError'
    )
      return true;
    // ioredis reports an unreachable server by message only.
    if (current instanceof Error && IOREDIS_UNAVAILABLE.some((text) => (current as Error).message.includes(text))) return true;
    if (typeof e.code === 'string') {
      if (CONNECTION_CODES.has(e.code) || e.code.startsWith('08') || /^57P0[1-3]$/.test(e.code)) return true;
    }
    if (Array.isArray(e.errors) && e.errors.some(isUnavailableError)) return true;
    current = e.originalError ?? e.cause;
  }
  return false;
}

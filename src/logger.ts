import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { prettyDestination } from './log-pretty.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** `json`: one JSON object per line, for machines; `pretty`: one readable line per entry, for a terminal. */
export type LogFormat = 'json' | 'pretty';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** The same logger with these fields on every line (a request id, a connection id). */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether lines of this level are written: work done only for them can be skipped. */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
}

/**
 * Where the process's log lines go: stderr, as JSON lines or pretty ones
 * (coloured when stderr is a terminal). Both write synchronously, so the last
 * line before an exit is never lost.
 */
export function logDestination(format: LogFormat): DestinationStream {
  return format === 'pretty' ? prettyDestination(2, isatty(2)) : pino.destination({ dest: 2, sync: true });
}

/**
 * Fields that never reach a log line at any level, at the top or one level
 * down (`{ headers: { authorization } }`, `{ input: { password } }`):
 * credentials, and message bodies (a chat message's text is its author's business).
 */
const SECRET_KEYS = ['authorization', 'password', 'token', 'accessToken', 'refreshToken', 'secret', 'body', 'variables'];
export const REDACTED_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`]);

/**
 * pino, one JSON line per entry (on stderr unless told otherwise):
 * `{"level":"info","time":"…","instance":"…","msg":"…",…}`. Errors are logged
 * by name and code only; their message and stack appear at debug level, so
 * info logs carry no internals.
 */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
  return wrap(logger, level === 'debug');
}

function wrap(logger: Pino, withStacks: boolean): Logger {
  const fieldsOf = (fields: Record<string, unknown> | undefined) => {
    if (!fields) return {};
    let out: Record<string, unknown> | null = null;
    for (const key in fields) {
      const value = fields[key];
      if (value instanceof Error) (out ??= { ...fields })[key] = describeError(value, withStacks);
    }
    return out ?? fields;
  };
  return {
    debug: (m, f) => logger.isLevelEnabled('debug') && logger.debug(fieldsOf(f), m),
    info: (m, f) => logger.isLevelEnabled('info') && logger.info(fieldsOf(f), m),
    warn: (m, f) => logger.isLevelEnabled('warn') && logger.warn(fieldsOf(f), m),
    error: (m, f) => logger.isLevelEnabled('error') && logger.error(fieldsOf(f), m),
    child: (bindings) => wrap(logger.child(bindings), withStacks),
    enabled: (level) => logger.isLevelEnabled(level),
  };
}

/**
 * `parent.child(bindings)`, made on the first line logged: a socket or a
 * request that logs nothing (almost all of them) costs no pino child.
 */
export class LazyChild implements Logger {
  private made: Logger | null = null;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  private get logger(): Logger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.logger.debug(message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.logger.info(message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.logger.warn(message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.logger.error(message, fields);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new LazyChild(this.parent, { ...this.bindings, ...bindings });
  }
  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return this.parent.enabled(level);
  }
}

function describeError(error: Error, withStack: boolean) {
  const code = (error as { code?: unknown }).code;
  return { name: error.name, code, ...(withStack ? { message: error.message, stack: error.stack } : {}) };
}

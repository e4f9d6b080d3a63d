import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';

/** What a line shows first and leaves out of its fields. */
const SHOWN = new Set(['level', 'time', 'msg', 'instance']);

const COLORS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m' };
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/**
 * One pino JSON line as a person reads it in a terminal:
 * `14:03:07.412 INFO  request method=POST path=/graphql operation=SendMessage status=200 ms=3.1 req=k2x-4`.
 * Fields keep their order; strings are quoted only when they hold a space,
 * a quote or `=`; an error's stack (logged at debug only) follows on its own
 * lines. Secrets were redacted by pino before this sees the line.
 */
export function formatPrettyLine(line: string, colors: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof entry.level === 'string' ? entry.level : 'info';
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const label = level.toUpperCase().padEnd(5);
  const head = colors ? `${DIM}${time}${RESET} ${COLORS[level] ?? ''}${label}${RESET}` : `${time} ${label}`;
  const fields: string[] = [];
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (SHOWN.has(key) || value === undefined) continue;
    if (value !== null && typeof value === 'object' && typeof (value as { stack?: unknown }).stack === 'string') {
      const { stack, ...rest } = value as { stack: string };
      stacks.push(stack);
      fields.push(`${key}=${JSON.stringify(rest)}`);
      continue;
    }
    fields.push(`${key}=${shown(value)}`);
  }
  const msg = typeof entry.msg === 'string' ? entry.msg : shown(entry.msg ?? '');
  const text = [head, msg, ...fields].join(' ');
  const tail = stacks.map((stack) => `\n${stack.replace(/^/gm, '    ')}`).join('');
  return `${text}${tail}\n`;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"'=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/**
 * A pino destination that writes each line pretty, synchronously (as the JSON
 * destination does), to a file descriptor: stderr unless told otherwise.
 */
export function prettyDestination(fd = 2, colors = false): DestinationStream {
  return {
    write(line: string) {
      writeSync(fd, formatPrettyLine(line, colors));
    },
  };
}

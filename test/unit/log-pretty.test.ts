import { describe, expect, it } from 'vitest';
import { formatPrettyLine } from '../../src/log-pretty.js';

const json = (entry: Record<string, unknown>) => `${JSON.stringify(entry)}\n`;

describe('pretty log lines', () => {
  it('show the time of day, the level and the message, then the fields in their order', () => {
    const line = json({
      level: 'info',
      time: '2026-01-02T14:03:07.412Z',
      instance: 'ab12cd34',
      msg: 'request',
      method: 'POST',
      path: '/graphql',
      operation: 'SendMessage',
      status: 200,
      ms: 3.1,
      req: 'k2x-4',
    });
    expect(formatPrettyLine(line, false)).toBe(
      '14:03:07.412 INFO  request method=POST path=/graphql operation=SendMessage status=200 ms=3.1 req=k2x-4\n',
    );
  });

  it('quote a text with a space, a quote or an equals sign, so every field reads as one (a newline included)', () => {
    const line = json({
      level: 'warn',
      time: '2026-01-02T14:03:07.412Z',
      msg: 'x',
      reason: 'Try again later',
      q: 'a=b',
      n: 'two\nlines',
    });
    expect(formatPrettyLine(line, false)).toBe('14:03:07.412 WARN  x reason="Try again later" q="a=b" n="two\\nlines"\n');
  });

  it("put an error's stack (debug only) on the lines after, indented", () => {
    const line = json({
      level: 'error',
      time: '2026-01-02T14:03:07.412Z',
      msg: 'unexpected error',
      error: { name: 'TypeError', code: null, message: 'boom', stack: 'TypeError: boom\n    at f (a.ts:1:1)' },
    });
    expect(formatPrettyLine(line, false)).toBe(
      '14:03:07.412 ERROR unexpected error error={"name":"TypeError","code":null,"message":"boom"}\n' +
        '    TypeError: boom\n        at f (a.ts:1:1)\n',
    );
  });

  it('colour the level for a terminal', () => {
    const line = json({ level: 'error', time: '2026-01-02T14:03:07.412Z', msg: 'x' });
    expect(formatPrettyLine(line, true)).toContain('\x1b[31mERROR\x1b[0m');
  });

  it('pass a line that is not JSON through as it is', () => {
    expect(formatPrettyLine('not json', false)).toBe('not json\n');
  });
});

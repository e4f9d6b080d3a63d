import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

type Line = Record<string, unknown>;

/**
 * A logger writing into an array, one parsed JSON object per line, and
 * `line(predicate)`, which resolves with the first line (logged already or
 * later) that matches: tests wait for the line, not for time to pass.
 */
export function capturedLogger(level: Parameters<typeof createLogger>[0], base: Record<string, unknown> = {}) {
  const lines: Line[] = [];
  const waiters: Array<{ predicate: (line: Line) => boolean; resolve: (line: Line) => void }> = [];
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      const complete = text
        .split('\n')
        .slice(0, -1)
        .map((line) => JSON.parse(line) as Line);
      text = text.slice(text.lastIndexOf('\n') + 1);
      for (const line of complete) {
        lines.push(line);
        for (const waiter of waiters.filter((w) => w.predicate(line))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      done();
    },
  });
  const line = (predicate: (line: Line) => boolean, timeoutMs = 5000): Promise<Line> => {
    const found = lines.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such log line within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({
        predicate,
        resolve: (found) => {
          clearTimeout(timer);
          resolve(found);
        },
      });
    });
  };
  return { logger: createLogger(level, base, sink), lines, line };
}

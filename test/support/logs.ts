import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

/** A logger writing into an array, one parsed JSON object per line. */
export function capturedLogger(level: Parameters<typeof createLogger>[0], base: Record<string, unknown> = {}) {
  const lines: Array<Record<string, unknown>> = [];
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      lines.push(
        ...text
          .split('\n')
          .slice(0, -1)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      );
      text = text.slice(text.lastIndexOf('\n') + 1);
      done();
    },
  });
  return { logger: createLogger(level, base, sink), lines };
}

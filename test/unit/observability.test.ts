import { describe, expect, it } from 'vitest';
import { createEnvReader } from '../../src/env-reader.js';
import { parseMetricsConfig } from '../../src/observability/metrics.config.js';
import { capturedLogger } from '../support/logs.js';

describe('the logger', () => {
  it('writes one JSON line per entry with its level by name, an ISO time, the base and child fields', async () => {
    const { logger, lines } = capturedLogger('info', { instance: 'abc' });
    logger.child({ conn: '7' }).info('hello', { n: 1 });
    logger.debug('not at info');
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]).toMatchObject({ level: 'info', instance: 'abc', conn: '7', msg: 'hello', n: 1 });
    expect(new Date(lines[0]!.time as string).toISOString()).toBe(lines[0]!.time);
  });

  it('redacts credentials and bodies, and logs an error by name and code, its stack only at debug', async () => {
    const { logger, lines } = capturedLogger('info');
    const error = Object.assign(new Error('secret internals'), { code: 'E1' });
    logger.warn('request', {
      headers: { authorization: 'Bearer tok-123' },
      input: { password: 'hunter2', body: 'private words' },
      token: 'tok-456',
      error,
    });
    await expect.poll(() => lines.length).toBe(1);
    const line = JSON.stringify(lines[0]);
    for (const secret of ['tok-123', 'hunter2', 'private words', 'tok-456', 'secret internals', 'at ']) {
      expect(line).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({ error: { name: 'Error', code: 'E1' }, token: '[redacted]' });
    const debug = capturedLogger('debug');
    debug.logger.error('failed', { error });
    await expect.poll(() => debug.lines.length).toBe(1);
    expect(debug.lines[0]).toMatchObject({ error: { message: 'secret internals', stack: expect.stringContaining('Error') } });
  });

  it("writes nothing at 'silent'", async () => {
    const { logger, lines } = capturedLogger('silent');
    logger.error('nobody hears this');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([]);
  });
});

describe('METRICS and METRICS_TOKEN', () => {
  const parse = (env: NodeJS.ProcessEnv) => {
    const problems: string[] = [];
    return { ...parseMetricsConfig(createEnvReader(env, problems)).metrics, problems };
  };
  it('serve /metrics openly by default, behind a token when one is set, and not at all with METRICS=false', () => {
    expect(parse({})).toEqual({ enabled: true, token: null, problems: [] });
    expect(parse({ METRICS_TOKEN: 'sixteen-chars-at-least' })).toMatchObject({ token: 'sixteen-chars-at-least' });
    expect(parse({ METRICS: 'false' })).toMatchObject({ enabled: false });
    expect(parse({ METRICS: 'yes' }).problems).toEqual(['METRICS must be true or false, got "yes"']);
    expect(parse({ METRICS_TOKEN: 'short' }).problems).toEqual(['METRICS_TOKEN must be at least 16 characters']);
  });
});

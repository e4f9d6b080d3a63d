import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DEV_SECRET_FILE, loadConfig, parseDuration } from '../../src/config.js';

const SECRET = 'x'.repeat(32);
/** The database's deadlines and breaker settings when no variable sets them. */
const DATABASE_LIMITS = { queryTimeoutMs: 5000, searchTimeoutMs: 2000, breakerThreshold: 3, breakerProbeMs: 1000 };
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-config-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const problemsOf = (env: NodeJS.ProcessEnv) => {
  try {
    loadConfig(env, tempDir());
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('loadConfig', () => {
  it('defaults to PGlite under .data/pglite, in-process pub/sub, port 4000 and a generated secret persisted with mode 0600', () => {
    const cwd = tempDir();
    const { config, warnings } = loadConfig({}, cwd);
    expect(config.port).toBe(4000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.database).toEqual({ kind: 'pglite', dir: join(cwd, '.data/pglite'), ...DATABASE_LIMITS });
    expect(config.redis).toBeNull();
    expect(config.redisPrefix).toBe('chat:');
    expect(config.jwt.ttlSeconds).toBe(3600);
    expect(config.jwt.secret.byteLength).toBeGreaterThanOrEqual(32);
    expect(warnings.join()).toContain('generated development secret');
    const file = join(cwd, DEV_SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The same secret comes back on the next start, so tokens survive restarts.
    expect(loadConfig({}, cwd).config.jwt.secret).toEqual(config.jwt.secret);
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThan(40);
  });

  it('takes memory:// as an in-memory embedded database that needs no secret', () => {
    const { config } = loadConfig({ DATABASE_URL: 'memory://' }, tempDir());
    expect(config.database).toEqual({ kind: 'pglite', dir: null, ...DATABASE_LIMITS });
  });

  it('uses Postgres and Redis from DATABASE_URL and REDIS_URL, with the secret required', () => {
    const { config } = loadConfig(
      {
        DATABASE_URL: 'postgres://u@h/db',
        REDIS_URL: 'redis://h:6379',
        JWT_SECRET: SECRET,
        REDIS_PREFIX: 'prod:',
        JWT_TTL: '15m',
        PORT: '0',
      },
      tempDir(),
    );
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u@h/db', poolSize: 10, ...DATABASE_LIMITS });
    expect(config.redis).toEqual({ url: 'redis://h:6379' });
    expect(config.redisPrefix).toBe('prod:');
    expect(config.jwt.ttlSeconds).toBe(900);
    expect(config.port).toBe(0);
  });

  it('requires a JWT_SECRET of at least 32 bytes once DATABASE_URL or REDIS_URL is set', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://h/db' })).toEqual([expect.stringContaining('JWT_SECRET is required')]);
    expect(problemsOf({ REDIS_URL: 'redis://h' })).toEqual([expect.stringContaining('JWT_SECRET is required')]);
    expect(problemsOf({ DATABASE_URL: 'postgres://h/db', JWT_SECRET: 'short' })).toEqual([
      expect.stringContaining('at least 32 bytes'),
    ]);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://h',
      REDIS_URL: 'http://h',
      JWT_TTL: 'soon',
      LOG_LEVEL: 'loud',
      REDIS_PREFIX: 'bad prefix',
    });
    expect(problems).toHaveLength(7);
    for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'JWT_TTL', 'JWT_SECRET', 'LOG_LEVEL']) {
      expect(problems.some((p) => p.includes(name))).toBe(true);
    }
  });

  it('reads the database deadlines and breaker settings, the search timeout shorter than the query deadline', () => {
    const env = {
      DATABASE_QUERY_TIMEOUT_MS: '3000',
      SEARCH_TIMEOUT_MS: '1000',
      DATABASE_BREAKER_THRESHOLD: '5',
      DATABASE_BREAKER_PROBE_MS: '250',
    };
    expect(loadConfig(env, tempDir()).config.database).toMatchObject({
      queryTimeoutMs: 3000,
      searchTimeoutMs: 1000,
      breakerThreshold: 5,
      breakerProbeMs: 250,
    });
    expect(problemsOf({ DATABASE_QUERY_TIMEOUT_MS: '2000', SEARCH_TIMEOUT_MS: '2000' })).toEqual([
      expect.stringContaining('SEARCH_TIMEOUT_MS must be shorter'),
    ]);
    expect(problemsOf({ DATABASE_QUERY_TIMEOUT_MS: 'soon', DATABASE_BREAKER_THRESHOLD: '0' })).toHaveLength(2);
  });

  it('returns a frozen config', () => {
    const { config } = loadConfig({}, tempDir());
    expect(Object.isFrozen(config)).toBe(true);
  });
});

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and days', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('7d')).toBe(604_800);
  });
  it('refuses anything else, and zero', () => {
    for (const text of ['', 'soon', '1w', '-5', '0', '1.5h']) expect(parseDuration(text)).toBeNull();
  });
});

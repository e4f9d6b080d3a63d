import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseConfig } from './db/client.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** The parsed environment (the README's table lists each variable). */
export interface Config {
  /**
   * HTTP and WebSocket port; 0 picks a free one (`PORT`).
   * @default 4000
   */
  readonly port: number;
  /**
   * Interface to listen on (`HOST`).
   * @default '0.0.0.0'
   */
  readonly host: string;
  /**
   * Postgres with `DATABASE_URL` (pool: `DATABASE_POOL_SIZE`, default 10), otherwise PGlite; with
   * the deadlines and the breaker's settings (DatabaseLimits documents each and its default).
   * @default { kind: 'pglite', dir: '.data/pglite', queryTimeoutMs: 5000, searchTimeoutMs: 2000, breakerThreshold: 3, breakerProbeMs: 1000 }
   */
  readonly database: DatabaseConfig;
  /**
   * `REDIS_URL`; null: in-process pub/sub (a single instance).
   * @default null
   */
  readonly redis: { readonly url: string } | null;
  /**
   * Prefixes every Redis channel and key this deployment uses (`REDIS_PREFIX`).
   * @default 'chat:'
   */
  readonly redisPrefix: string;
  /**
   * `JWT_SECRET` (a generated one only with the embedded defaults) and `JWT_TTL`.
   * @default { ttlSeconds: 3600 }
   */
  readonly jwt: { readonly secret: Uint8Array; readonly ttlSeconds: number };
  /**
   * `LOG_LEVEL`.
   * @default 'info'
   */
  readonly logLevel: LogLevel;
  /**
   * How often live room feeds compare their position with the database, in ms (`FEED_POLL_MS`).
   * @default 2000
   */
  readonly feedPollMs: number;
  /**
   * A typing indicator lapses after this long without a repeat, in ms (`TYPING_TIMEOUT_MS`).
   * @default 5000
   */
  readonly typingTimeoutMs: number;
  /**
   * An instance's claim that a user is online lasts this long without a heartbeat, in ms (`PRESENCE_TTL_MS`).
   * @default 20000
   */
  readonly presenceTtlMs: number;
  /**
   * How often an instance renews its presence claims and sweeps lapsed ones, in ms (`PRESENCE_HEARTBEAT_MS`).
   * @default 5000
   */
  readonly presenceHeartbeatMs: number;
  /**
   * A WebSocket whose unsent bytes pass this is closed with 1013 (try again later), in bytes (`WS_MAX_BUFFERED_BYTES`).
   * @default 1048576
   */
  readonly wsMaxBufferedBytes: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
export const DEV_SECRET_FILE = '.data/jwt-secret';
const MIN_SECRET_BYTES = 32;

/** "90", "90s", "15m", "1h", "7d" -> seconds. */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+)\s*(s|m|h|d)?\s*$/.exec(text);
  if (!match) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : null;
}

export interface LoadedConfig {
  config: Config;
  /** Things worth telling the operator at start-up (a generated dev secret, say). */
  warnings: string[];
}

/**
 * The only reader of process.env. Every problem is collected and reported at
 * once; nothing is defaulted that would be unsafe in production: a generated
 * JWT secret exists only with the embedded defaults (no DATABASE_URL/REDIS_URL).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const value = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  let port = 4000;
  const portText = value('PORT');
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65_535) problems.push(`PORT must be an integer 0-65535, got "${portText}"`);
  }
  const host = value('HOST') ?? '0.0.0.0';

  const databaseUrl = value('DATABASE_URL');
  const pgliteDir = value('PGLITE_DIR') ?? '.data/pglite';
  let database: DatabaseConfig;
  let embeddedDatabase = true;
  if (databaseUrl === undefined || databaseUrl === 'memory://') {
    database = { kind: 'pglite', dir: databaseUrl === 'memory://' || pgliteDir === 'memory://' ? null : resolve(cwd, pgliteDir) };
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    embeddedDatabase = false;
    const poolText = value('DATABASE_POOL_SIZE') ?? '10';
    const poolSize = Number(poolText);
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100) {
      problems.push(`DATABASE_POOL_SIZE must be an integer 1-100, got "${poolText}"`);
    }
    database = { kind: 'postgres', url: databaseUrl, poolSize };
  } else {
    problems.push('DATABASE_URL must start with postgres:// or postgresql:// (or be memory://)');
    database = { kind: 'pglite', dir: null };
  }

  const redisUrl = value('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL must start with redis:// or rediss://');
  const redisPrefix = env.REDIS_PREFIX ?? 'chat:';
  if (!/^[A-Za-z0-9_.:-]{0,64}$/.test(redisPrefix)) {
    problems.push('REDIS_PREFIX may hold only letters, digits and _ . : - (at most 64)');
  }

  const ttlText = value('JWT_TTL') ?? '1h';
  const ttlSeconds = parseDuration(ttlText);
  if (ttlSeconds === null) problems.push(`JWT_TTL must be a duration such as 3600, 15m, 1h or 7d, got "${ttlText}"`);

  let secret: Uint8Array | null = null;
  const secretText = env.JWT_SECRET;
  if (secretText !== undefined && secretText !== '') {
    secret = new TextEncoder().encode(secretText);
    if (secret.byteLength < MIN_SECRET_BYTES) problems.push(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  } else if (!embeddedDatabase || redisUrl !== undefined) {
    problems.push('JWT_SECRET is required when DATABASE_URL or REDIS_URL is set (at least 32 bytes)');
  } else {
    secret = loadOrCreateDevSecret(resolve(cwd, DEV_SECRET_FILE));
    warnings.push(`JWT_SECRET is not set: using a generated development secret stored in ${DEV_SECRET_FILE}`);
  }

  const logText = value('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logText as LogLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const pollText = value('FEED_POLL_MS') ?? '2000';
  const feedPollMs = Number(pollText);
  if (!Number.isInteger(feedPollMs) || feedPollMs < 50) problems.push(`FEED_POLL_MS must be an integer >= 50, got "${pollText}"`);

  const integerAtLeast = (name: string, fallback: number, min: number) => {
    const text = value(name) ?? String(fallback);
    const ms = Number(text);
    if (!Number.isInteger(ms) || ms < min) problems.push(`${name} must be an integer >= ${min}, got "${text}"`);
    return ms;
  };
  const typingTimeoutMs = integerAtLeast('TYPING_TIMEOUT_MS', 5000, 100);
  const presenceTtlMs = integerAtLeast('PRESENCE_TTL_MS', 20_000, 500);
  const presenceHeartbeatMs = integerAtLeast('PRESENCE_HEARTBEAT_MS', 5000, 100);
  if (presenceHeartbeatMs >= presenceTtlMs) problems.push('PRESENCE_HEARTBEAT_MS must be shorter than PRESENCE_TTL_MS');
  const wsMaxBufferedBytes = integerAtLeast('WS_MAX_BUFFERED_BYTES', 1024 * 1024, 4096);
  const databaseLimits = {
    queryTimeoutMs: integerAtLeast('DATABASE_QUERY_TIMEOUT_MS', 5000, 100),
    searchTimeoutMs: integerAtLeast('SEARCH_TIMEOUT_MS', 2000, 10),
    breakerThreshold: integerAtLeast('DATABASE_BREAKER_THRESHOLD', 3, 1),
    breakerProbeMs: integerAtLeast('DATABASE_BREAKER_PROBE_MS', 1000, 50),
  };
  if (databaseLimits.searchTimeoutMs >= databaseLimits.queryTimeoutMs) {
    problems.push('SEARCH_TIMEOUT_MS must be shorter than DATABASE_QUERY_TIMEOUT_MS');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    config: Object.freeze({
      port,
      host,
      database: Object.freeze({ ...database, ...databaseLimits }),
      redis: redisUrl === undefined ? null : { url: redisUrl },
      redisPrefix,
      jwt: Object.freeze({ secret: secret!, ttlSeconds: ttlSeconds! }),
      logLevel: logText as LogLevel,
      feedPollMs,
      typingTimeoutMs,
      presenceTtlMs,
      presenceHeartbeatMs,
      wsMaxBufferedBytes,
    }),
    warnings,
  };
}

function loadOrCreateDevSecret(file: string): Uint8Array {
  if (existsSync(file)) {
    const stored = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    if (stored.byteLength >= MIN_SECRET_BYTES) return new Uint8Array(stored);
  }
  const fresh = randomBytes(48);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, fresh.toString('base64url') + '\n', { mode: 0o600 });
  return new Uint8Array(fresh);
}

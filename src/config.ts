import { resolve } from 'node:path';
import { parseAuthConfig, type AuthConfig, type JwtConfig, type SessionConfig } from './auth/auth.config.js';
import type { DatabaseConfig } from './db/client.js';
import { createEnvReader } from './env-reader.js';
import { parseAttachmentsConfig, type AttachmentsConfig } from './features/attachments/attachments.config.js';
import { parsePushConfig, type PushConfig } from './features/notifications/push.config.js';
import { parseAbuseLimits } from './limits/limits.config.js';
import type { MutationRateLimits, Rate, RateLimits } from './limits/rate.js';
import type { LogFormat, LogLevel } from './logger.js';
import { parseMetricsConfig, type MetricsConfig } from './observability/metrics.config.js';
import { parseWebhooksConfig, type WebhooksConfig } from './outbox/webhooks.config.js';
import type { AllowedHost } from './transport/hosts.js';
import { parseTransportConfig, type Exposure, type HttpServerLimits, type RequestLimits } from './transport/transport.config.js';
import { parseTrustedDocumentsConfig, type TrustedDocumentsConfig } from './transport/trusted-documents.config.js';

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
   * Tokens: `JWT_SECRET`, `JWT_TTL`, `JWT_ISSUER`, `JWT_AUDIENCE`, and an
   * identity provider's `JWT_JWKS_URL` with its options (auth/auth.config.ts).
   * @default { secret: generated (embedded, not production), ttlSeconds: 3600, issuer: null, audience: null, jwks: null }
   */
  readonly jwt: JwtConfig;
  /**
   * How long sessions last and how soon a deleted user's tokens stop working (auth/auth.config.ts documents each).
   * @default { maxAgeSeconds: 2592000 (30 days), userRecheckMs: 10000 }
   */
  readonly sessions: SessionConfig;
  /**
   * `LOCAL_AUTH`: register and login are served.
   * @default true without JWT_JWKS_URL, false with it
   */
  readonly localAuth: AuthConfig['localAuth'];
  /**
   * `PASSWORD_SCRYPT_N`: the scrypt cost of new password hashes (r=8, p=1).
   * @default { scryptN: 131072 }
   */
  readonly passwords: AuthConfig['passwords'];
  /**
   * `LOG_LEVEL`.
   * @default 'info'
   */
  readonly logLevel: LogLevel;
  /**
   * `LOG_FORMAT`: `json` lines for machines, or `pretty` lines for a person at a terminal.
   * @default 'pretty' when stderr is a terminal, 'json' otherwise
   */
  readonly logFormat: LogFormat;
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
  /**
   * Rate limits, each `N/window` (`RATE_LIMIT_SEND`, `RATE_LIMIT_LOGIN_USER`, `RATE_LIMIT_LOGIN_IP`,
   * `RATE_LIMIT_REGISTER_IP`, `RATE_LIMIT_WS_MESSAGES`, `RATE_LIMIT_USER_SEARCH`); shared by every instance through
   * Redis when it is set.
   * @default { send: 100/10s, loginUser: 10/15m, loginIp: 100/15m, registerIp: 20/1h, wsMessages: 300/10s, userSearch: 30/10s }
   */
  readonly rateLimits: RateLimits;
  /**
   * Per-user limits of the other mutations, each `N/window` (`RATE_LIMIT_EDIT`, `RATE_LIMIT_REACT`,
   * `RATE_LIMIT_TYPING`, `RATE_LIMIT_READ`, `RATE_LIMIT_ROOMS`, `RATE_LIMIT_REFRESH`, `RATE_LIMIT_MODERATION`,
   * `RATE_LIMIT_REPORTS`, `RATE_LIMIT_BLOCKS`; limits/mutation-limits.ts maps each Mutation field to one).
   * @default { edit: 30/10s, react: 30/10s, typing: 30/10s, read: 60/10s, rooms: 30/1m, refresh: 30/1h, moderation: 60/1m, reports: 10/1m, blocks: 30/1m }
   */
  readonly mutationRateLimits: MutationRateLimits;
  /**
   * Successful logins per username (`RATE_LIMIT_LOGIN_SUCCESS`): the right password cannot make the server run
   * scrypt without bound.
   * @default 30/15m
   */
  readonly loginSuccessRate: Rate;
  /**
   * searchMessages calls per user (`RATE_LIMIT_SEARCH`), each alias counted: searches are the costliest reads.
   * @default 30/1m
   */
  readonly searchRate: Rate;
  /**
   * Active subscriptions one socket may hold; one more is refused with BAD_USER_INPUT (`MAX_SUBSCRIPTIONS_PER_SOCKET`).
   * @default 100
   */
  readonly maxSubscriptionsPerSocket: number;
  /**
   * Open sockets per user, across instances with Redis; one more is closed with 4429 (`MAX_SOCKETS_PER_USER`).
   * @default 20
   */
  readonly maxSocketsPerUser: number;
  /**
   * Sockets of one client IP that have not authenticated yet, on one instance; one more upgrade is answered 429 (`MAX_PENDING_SOCKETS_PER_IP`).
   * @default 50
   */
  readonly maxPendingSocketsPerIp: number;
  /**
   * Open SSE and multipart subscriptions per user, across instances with Redis; one more is refused with
   * RATE_LIMITED before it subscribes (`MAX_STREAMS_PER_USER`).
   * @default 20
   */
  readonly maxStreamsPerUser: number;
  /**
   * Proxy hops in front of the server whose X-Forwarded-For entries are believed; 0: the client IP is the socket's peer (`TRUST_PROXY`).
   * @default 0
   */
  readonly trustProxy: number;
  /** What one request or frame may hold; each is refused before any resolver runs. */
  readonly requestLimits: RequestLimits;
  /**
   * How many items the cost estimate takes a list without `first`/`last` (`myRooms`, `Room.members`) to hold
   * (`MAX_LIST_SIZE_ASSUMED`).
   * @default 30
   */
  readonly assumedListSize: number;
  /**
   * Browser origins allowed to call the API and open WebSockets (`CORS_ORIGINS`, comma-separated; `*`: any).
   * Same-origin requests and requests without an Origin header are always allowed.
   * @default []
   */
  readonly corsOrigins: readonly string[];
  /**
   * Host headers this server answers (`ALLOWED_HOSTS`, comma-separated host or host:port; a host without a
   * port is taken on any port). Another Host is refused with 421 (except on /healthz), and so is its
   * WebSocket upgrade. Empty: any Host.
   * @default []
   */
  readonly allowedHosts: readonly AllowedHost[];
  /**
   * Timeouts for receiving a request and a cap on open connections (`HTTP_HEADERS_TIMEOUT_MS`,
   * `HTTP_REQUEST_TIMEOUT_MS`, `MAX_CONNECTIONS`).
   * @default { headersTimeoutMs: 10000, requestTimeoutMs: 30000, maxConnections: 10000 }
   */
  readonly httpServer: HttpServerLimits;
  /**
   * Developer conveniences: GraphiQL at /graphql (`GRAPHIQL`), introspection (`INTROSPECTION`; `__typename`
   * always works) and "Did you mean …?" in validation errors (`FIELD_SUGGESTIONS`), each true or false.
   * @default each true; false when NODE_ENV=production
   */
  readonly exposure: Exposure;
  /**
   * How often an idle multipart (Apollo HTTP) subscription gets a heartbeat part, in ms (`MULTIPART_HEARTBEAT_MS`).
   * @default 5000
   */
  readonly multipartHeartbeatMs: number;
  /**
   * Trusted documents: `TRUSTED_DOCUMENTS` (`accept`: text, documentId and APQ hashes; `only`: nothing
   * but the manifests' documents) and the manifests loaded at start, the kit's and those of
   * `TRUSTED_DOCUMENTS_MANIFEST` (transport/trusted-documents.config.ts).
   * @default { mode: 'accept', manifests: [client/generated/persisted-documents.json] }
   */
  readonly trustedDocuments: TrustedDocumentsConfig;
  /**
   * The browser client's build, served at `/` (`WEB_DIR`; `off`: not served). A directory without
   * an index.html makes `/` answer 503 with how to build it.
   * @default web/dist of this checkout
   */
  readonly webDir: string | null;
  /**
   * GET /metrics in Prometheus text (`METRICS`, true or false), behind `Authorization: Bearer` when `METRICS_TOKEN` is set.
   * @default { enabled: true, token: null }
   */
  readonly metrics: MetricsConfig;
  /**
   * The moderation log: entries older than `logRetentionDays` are no longer shown and are deleted by a
   * sweep each instance runs every `logSweepMs` (`MODERATION_LOG_RETENTION_DAYS`, `MODERATION_LOG_SWEEP_MS`).
   * @default { logRetentionDays: 90, logSweepMs: 3600000 }
   */
  readonly moderation: ModerationConfig;
  /**
   * Attachments: the storage (`S3_BUCKET` and the other `S3_*` variables, or the embedded disk under
   * `UPLOADS_DIR`), `PUBLIC_URL`, and the contract's limits (features/attachments/attachments.config.ts).
   * @default { storage: { kind: 'disk', dir: '.data/uploads' }, maxBytes: 25 MiB, perMessage: 10, pendingPerUser: 20, … }
   */
  readonly attachments: AttachmentsConfig;
  /**
   * Web Push: the VAPID keys (`VAPID_PUBLIC_KEY`, `VAPID_PRIVATE_KEY`, `VAPID_SUBJECT`; generated into
   * .data/vapid.json on the embedded defaults outside production, otherwise unset = off), the batch
   * window and the offline delay (features/notifications/push.config.ts).
   * @default { vapid: generated (embedded) or null, batchMs: 60000, offlineMs: 30000, allowLoopbackHttp: false, timeoutMs: 10000 }
   */
  readonly push: PushConfig;
  /**
   * Webhooks from the transactional outbox: `WEBHOOK_URLS`, `WEBHOOK_SECRET`, `WEBHOOK_SECRET_PREVIOUS`,
   * `WEBHOOK_ALLOW_PRIVATE` and the delivery settings (outbox/webhooks.config.ts documents each).
   * @default { urls: [] (nothing recorded), secret: null, allowPrivate: false, worker: true, pollMs: 1000, retryBaseMs: 5000, … }
   */
  readonly webhooks: WebhooksConfig;
}

/** The moderation log's retention (Config.moderation). */
export interface ModerationConfig {
  /** How long log entries are kept, in days. */
  readonly logRetentionDays: number;
  /** How often an instance sweeps expired log entries, in ms. */
  readonly logSweepMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];
export const DEV_SECRET_FILE = '.data/jwt-secret';
export const DEV_VAPID_FILE = '.data/vapid.json';

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
 * JWT secret exists only with the embedded defaults (no DATABASE_URL/REDIS_URL)
 * and never with NODE_ENV=production.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  /** Whether stderr is a terminal (LOG_FORMAT's default). */
  stderrIsTTY = process.stderr.isTTY === true,
): LoadedConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const reader = createEnvReader(env, problems);
  const { value, integerAtLeast } = reader;

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

  const maxAgeText = value('SESSION_MAX_AGE') ?? '30d';
  const maxAgeSeconds = parseDuration(maxAgeText);
  if (maxAgeSeconds === null) {
    problems.push(`SESSION_MAX_AGE must be a duration such as 86400, 12h or 30d, got "${maxAgeText}"`);
  }
  const sessions: SessionConfig = Object.freeze({
    maxAgeSeconds: maxAgeSeconds ?? 0,
    userRecheckMs: integerAtLeast('USER_RECHECK_MS', 10_000, 100),
  });

  const auth = parseAuthConfig(
    value,
    ttlSeconds ?? 0,
    {
      production: env.NODE_ENV === 'production',
      embedded: embeddedDatabase && redisUrl === undefined,
      devSecretFile: resolve(cwd, DEV_SECRET_FILE),
      secretText: env.JWT_SECRET,
    },
    problems,
    warnings,
  );

  const logText = value('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logText as LogLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = value('LOG_FORMAT') ?? (stderrIsTTY ? 'pretty' : 'json');
  if (!LOG_FORMATS.includes(logFormat as LogFormat)) problems.push(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}`);

  const pollText = value('FEED_POLL_MS') ?? '2000';
  const feedPollMs = Number(pollText);
  if (!Number.isInteger(feedPollMs) || feedPollMs < 50) problems.push(`FEED_POLL_MS must be an integer >= 50, got "${pollText}"`);

  const typingTimeoutMs = integerAtLeast('TYPING_TIMEOUT_MS', 5000, 100);
  const presenceTtlMs = integerAtLeast('PRESENCE_TTL_MS', 20_000, 500);
  const presenceHeartbeatMs = integerAtLeast('PRESENCE_HEARTBEAT_MS', 5000, 100);
  if (presenceHeartbeatMs >= presenceTtlMs) problems.push('PRESENCE_HEARTBEAT_MS must be shorter than PRESENCE_TTL_MS');
  const wsMaxBufferedBytes = integerAtLeast('WS_MAX_BUFFERED_BYTES', 1024 * 1024, 4096);
  const transport = parseTransportConfig(reader, cwd);
  const trusted = parseTrustedDocumentsConfig(reader, cwd);
  const abuse = parseAbuseLimits(reader);
  const metrics = parseMetricsConfig(reader);
  const moderation: ModerationConfig = Object.freeze({
    logRetentionDays: integerAtLeast('MODERATION_LOG_RETENTION_DAYS', 90, 1),
    logSweepMs: integerAtLeast('MODERATION_LOG_SWEEP_MS', 3_600_000, 100),
  });
  const attachments = parseAttachmentsConfig(reader, cwd);
  const push = parsePushConfig(reader, {
    production: env.NODE_ENV === 'production',
    embedded: embeddedDatabase && redisUrl === undefined,
    devKeysFile: resolve(cwd, DEV_VAPID_FILE),
  });
  const webhooks = parseWebhooksConfig(reader);
  const databaseLimits = {
    queryTimeoutMs: integerAtLeast('DATABASE_QUERY_TIMEOUT_MS', 5000, 100),
    searchTimeoutMs: integerAtLeast('SEARCH_TIMEOUT_MS', 2000, 10),
    breakerThreshold: integerAtLeast('DATABASE_BREAKER_THRESHOLD', 3, 1),
    breakerProbeMs: integerAtLeast('DATABASE_BREAKER_PROBE_MS', 1000, 50),
    // A quarter of the pool by default, so expensive reads never hold more than that.
    expensiveConcurrency: integerAtLeast(
      'DATABASE_EXPENSIVE_CONCURRENCY',
      database.kind === 'postgres' ? Math.max(1, Math.floor(database.poolSize / 4)) : 1,
      1,
    ),
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
      jwt: auth.jwt,
      sessions,
      localAuth: auth.localAuth,
      passwords: auth.passwords,
      logLevel: logText as LogLevel,
      logFormat: logFormat as LogFormat,
      feedPollMs,
      typingTimeoutMs,
      presenceTtlMs,
      presenceHeartbeatMs,
      wsMaxBufferedBytes,
      ...abuse,
      ...transport,
      ...trusted,
      ...metrics,
      moderation,
      attachments,
      push,
      ...webhooks,
    }),
    warnings,
  };
}

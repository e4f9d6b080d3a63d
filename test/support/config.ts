import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONTENT_TYPES } from '../../src/features/attachments/attachments.config.js';
import { KIT_MANIFEST } from '../../src/transport/trusted-documents.config.js';
import type { Config } from './server.js';

/** The JWT secret of every test server: tests mint their own tokens with it. */
export const TEST_SECRET = new TextEncoder().encode('test-secret-that-is-at-least-32-bytes-long!');

/** The scrypt cost of test servers' password hashes. */
export const TEST_SCRYPT_N = 2 ** 12;

/**
 * The embedded storage's directory of this test process: shared by its
 * servers (two instances on one disk, as on one machine), removed at exit.
 */
const uploadsDir = mkdtempSync(join(tmpdir(), 'chat-uploads-'));
process.on('exit', () => rmSync(uploadsDir, { recursive: true, force: true }));

/** The attachments settings of test servers: the contract's limits, files on the process's own disk. */
export const testAttachments = (overrides: Partial<Config['attachments']> = {}): Config['attachments'] => ({
  storage: { kind: 'disk', dir: uploadsDir },
  publicUrl: null,
  maxBytes: 25 * 1024 * 1024,
  contentTypes: [...DEFAULT_CONTENT_TYPES],
  perMessage: 10,
  pendingPerUser: 20,
  uploadUrlSeconds: 900,
  unusedSeconds: 86_400,
  downloadUrlSeconds: 3600,
  sweepMs: 600_000,
  ...overrides,
});

/** A fixed VAPID key pair of test servers (generated once for the suite, no secret of anyone's). */
export const TEST_VAPID = {
  publicKey: 'BAjPh1Lw8cmkfZZ8o6_lXzGw3p3JzyUcWiluzRScGDt9NLPv64OECKypuDVCYSyGrRVt62JVaEaBln9WUkkhEdU',
  privateKey: 'zRNRQIIvAS8_T4tludJHlGAcnwOnM8YNwRisRdAwNy0',
  subject: 'mailto:tests@example.com',
};

/** Web Push settings of test servers: on, with the production windows unless a test shortens them. */
export const testPush = (overrides: Partial<Config['push']> = {}): Config['push'] => ({
  vapid: TEST_VAPID,
  batchMs: 60_000,
  offlineMs: 30_000,
  allowLoopbackHttp: true,
  timeoutMs: 10_000,
  ...overrides,
});

/** The webhook settings of test servers: none configured (nothing recorded); webhooks.test.ts sets its own. */
export const testWebhooks = (overrides: Partial<Config['webhooks']> = {}): Config['webhooks'] => ({
  urls: [],
  secret: null,
  previousSecret: null,
  allowPrivate: false,
  worker: true,
  pollMs: 1000,
  retryBaseMs: 5000,
  retryForMs: 86_400_000,
  timeoutMs: 5000,
  ...overrides,
});

/**
 * The configuration every test server starts from: embedded database in
 * memory, in-process pub/sub, a free port on loopback, quiet logs
 * (TEST_LOG_LEVEL=debug to see them). Backends and single tests override
 * what they need: the database and Redis, a short typing lapse, a short token.
 * The abuse limits are the production defaults except those that the suite
 * itself would hit: every file registers its users from 127.0.0.1, some
 * tests send hundreds of messages, or make rooms, react and mark read many
 * times, as one user (rate-limits.test.ts tests those limits with small ones
 * of its own), and some open a hundred sockets at once from 127.0.0.1 that
 * never get acknowledged (websocket.test.ts tests that cap with a small one).
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    database: { kind: 'pglite', dir: null },
    redis: null,
    redisPrefix: 'chat:',
    jwt: { secret: TEST_SECRET, ttlSeconds: 3600, issuer: null, audience: null, jwks: null },
    sessions: { maxAgeSeconds: 30 * 86_400, userRecheckMs: 10_000 },
    localAuth: true,
    // Cheap hashes keep registering fast; the production default (2^17) is tested in test/unit/passwords.test.ts.
    passwords: { scryptN: TEST_SCRYPT_N },
    logLevel: (process.env.TEST_LOG_LEVEL as Config['logLevel'] | undefined) ?? 'silent',
    logFormat: 'json',
    feedPollMs: 300,
    typingTimeoutMs: 5000,
    presenceTtlMs: 20_000,
    presenceHeartbeatMs: 5000,
    wsMaxBufferedBytes: 1024 * 1024,
    multipartHeartbeatMs: 5000,
    webDir: null,
    rateLimits: {
      send: { points: 1_000_000, seconds: 1 },
      loginUser: { points: 10, seconds: 900 },
      loginIp: { points: 100, seconds: 900 },
      registerIp: { points: 1_000_000, seconds: 1 },
      wsMessages: { points: 300, seconds: 10 },
      userSearch: { points: 1_000_000, seconds: 1 },
    },
    mutationRateLimits: {
      edit: { points: 1_000_000, seconds: 1 },
      react: { points: 1_000_000, seconds: 1 },
      typing: { points: 1_000_000, seconds: 1 },
      read: { points: 1_000_000, seconds: 1 },
      rooms: { points: 1_000_000, seconds: 1 },
      refresh: { points: 1_000_000, seconds: 1 },
      moderation: { points: 1_000_000, seconds: 1 },
      reports: { points: 1_000_000, seconds: 1 },
      blocks: { points: 1_000_000, seconds: 1 },
    },
    loginSuccessRate: { points: 30, seconds: 900 },
    searchRate: { points: 1_000_000, seconds: 1 },
    maxSubscriptionsPerSocket: 100,
    maxSocketsPerUser: 20,
    maxPendingSocketsPerIp: 1000,
    maxStreamsPerUser: 20,
    trustProxy: 0,
    requestLimits: {
      depth: 12,
      aliases: 30,
      tokens: 2000,
      directives: 50,
      cost: 50_000,
      bodyBytes: 256 * 1024,
      wsPayloadBytes: 64 * 1024,
    },
    assumedListSize: 30,
    corsOrigins: [],
    allowedHosts: [],
    httpServer: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 10_000 },
    exposure: { graphiql: true, introspection: true, fieldSuggestions: true },
    trustedDocuments: { mode: 'accept', manifests: [KIT_MANIFEST] },
    metrics: { enabled: true, token: null },
    moderation: { logRetentionDays: 90, logSweepMs: 3_600_000 },
    attachments: testAttachments(),
    push: testPush(),
    webhooks: testWebhooks(),
    ...overrides,
  };
}

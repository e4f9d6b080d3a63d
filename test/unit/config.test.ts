import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DEV_SECRET_FILE, DEV_VAPID_FILE, loadConfig, parseDuration } from '../../src/config.js';

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
    expect(config.database).toEqual({
      kind: 'pglite',
      dir: join(cwd, '.data/pglite'),
      ...DATABASE_LIMITS,
      expensiveConcurrency: 1,
    });
    expect(config.redis).toBeNull();
    expect(config.redisPrefix).toBe('chat:');
    expect(config.jwt.ttlSeconds).toBe(3600);
    expect(config.jwt.secret!.byteLength).toBeGreaterThanOrEqual(32);
    expect(config.jwt).toMatchObject({ issuer: null, audience: null, jwks: null });
    expect(config.localAuth).toBe(true);
    expect(config.passwords.scryptN).toBe(2 ** 17);
    expect(warnings.join()).toContain('generated development secret');
    const file = join(cwd, DEV_SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(cwd, '.data')).mode & 0o777).toBe(0o700);
    // The same secret comes back on the next start, so tokens survive restarts.
    expect(loadConfig({}, cwd).config.jwt.secret).toEqual(config.jwt.secret);
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThan(40);
  });

  it('takes memory:// as an in-memory embedded database that needs no secret', () => {
    const { config } = loadConfig({ DATABASE_URL: 'memory://' }, tempDir());
    expect(config.database).toEqual({ kind: 'pglite', dir: null, ...DATABASE_LIMITS, expensiveConcurrency: 1 });
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
    // Expensive reads get a quarter of the pool.
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h/db',
      poolSize: 10,
      ...DATABASE_LIMITS,
      expensiveConcurrency: 2,
    });
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

  it('tightens an existing .data directory to 0700 and its secret file to 0600', () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, '.data'), { mode: 0o755 });
    chmodSync(join(cwd, '.data'), 0o755);
    writeFileSync(join(cwd, DEV_SECRET_FILE), `${Buffer.alloc(48, 7).toString('base64url')}\n`, { mode: 0o644 });
    chmodSync(join(cwd, DEV_SECRET_FILE), 0o644);
    const { config } = loadConfig({}, cwd);
    expect(config.jwt.secret).toEqual(new Uint8Array(Buffer.alloc(48, 7)));
    expect(statSync(join(cwd, '.data')).mode & 0o777).toBe(0o700);
    expect(statSync(join(cwd, DEV_SECRET_FILE)).mode & 0o777).toBe(0o600);
  });

  it('refuses the generated development secret with NODE_ENV=production, and writes none', () => {
    const cwd = tempDir();
    let problems: string[] = [];
    try {
      loadConfig({ NODE_ENV: 'production' }, cwd);
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([expect.stringContaining('JWT_SECRET is required when NODE_ENV=production')]);
    expect(existsSync(join(cwd, DEV_SECRET_FILE))).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET }, tempDir()).warnings).toEqual([]);
  });

  it('signs and requires iss and aud when JWT_ISSUER and JWT_AUDIENCE are set', () => {
    const { config } = loadConfig({ JWT_SECRET: SECRET, JWT_ISSUER: 'https://chat.example', JWT_AUDIENCE: 'chat' }, tempDir());
    expect(config.jwt).toMatchObject({ issuer: 'https://chat.example', audience: 'chat', jwks: null });
  });

  describe('an identity provider (JWT_JWKS_URL)', () => {
    const provider = { JWT_JWKS_URL: 'https://id.example/jwks', JWT_ISSUER: 'https://id.example/', JWT_AUDIENCE: 'chat-api' };

    it('verifies RS256 and ES256 by default, names users by preferred_username, and turns register/login off', () => {
      const cwd = tempDir();
      const { config } = loadConfig({ ...provider, NODE_ENV: 'production', DATABASE_URL: 'postgres://h/db' }, cwd);
      expect(config.jwt.jwks).toEqual({
        url: 'https://id.example/jwks',
        algorithms: ['RS256', 'ES256'],
        usernameClaim: 'preferred_username',
        cooldownMs: 30_000,
        timeoutMs: 3000,
      });
      expect(config.jwt).toMatchObject({ issuer: 'https://id.example/', audience: 'chat-api', secret: null });
      expect(config.localAuth).toBe(false);
      expect(existsSync(join(cwd, DEV_SECRET_FILE))).toBe(false);
    });

    it('takes the algorithms, the username claim, the cooldown and the timeout from the environment', () => {
      const env = {
        ...provider,
        JWT_ALGORITHMS: 'ES384, EdDSA',
        JWT_USERNAME_CLAIM: 'nickname',
        JWT_JWKS_COOLDOWN_MS: '0',
        JWT_JWKS_TIMEOUT_MS: '5000',
      };
      expect(loadConfig(env, tempDir()).config.jwt.jwks).toMatchObject({
        algorithms: ['ES384', 'EdDSA'],
        usernameClaim: 'nickname',
        cooldownMs: 0,
        timeoutMs: 5000,
      });
    });

    it('requires JWT_ISSUER and JWT_AUDIENCE', () => {
      const problems = problemsOf({ JWT_JWKS_URL: provider.JWT_JWKS_URL });
      expect(problems).toHaveLength(2);
      expect(problems.join()).toContain('JWT_ISSUER is required with JWT_JWKS_URL');
      expect(problems.join()).toContain('JWT_AUDIENCE is required with JWT_JWKS_URL');
    });

    it('refuses symmetric, unknown and empty algorithms, and a timeout past 5 s', () => {
      for (const list of ['HS256', 'RS256,HS512', 'none', 'RS256,', 'rs256']) {
        expect(problemsOf({ ...provider, JWT_ALGORITHMS: list }), list).toEqual([expect.stringContaining('JWT_ALGORITHMS')]);
      }
      expect(problemsOf({ ...provider, JWT_JWKS_TIMEOUT_MS: '10000' })).toEqual([expect.stringContaining('JWT_JWKS_TIMEOUT_MS')]);
      expect(problemsOf({ ...provider, JWT_JWKS_URL: 'file:///etc/keys' })).toEqual([expect.stringContaining('JWT_JWKS_URL')]);
      expect(problemsOf({ JWT_ALGORITHMS: 'RS256' })).toEqual([expect.stringContaining('only with JWT_JWKS_URL')]);
    });

    it('serves register/login too with LOCAL_AUTH=true, which needs JWT_SECRET in production', () => {
      expect(problemsOf({ ...provider, LOCAL_AUTH: 'true', NODE_ENV: 'production' })).toEqual([
        expect.stringContaining('JWT_SECRET is required when NODE_ENV=production'),
      ]);
      const { config } = loadConfig({ ...provider, LOCAL_AUTH: 'true', JWT_SECRET: SECRET }, tempDir());
      expect(config.localAuth).toBe(true);
      expect(config.jwt.secret).not.toBeNull();
    });
  });

  it('refuses LOCAL_AUTH=false without an identity provider, and LOCAL_AUTH other than true or false', () => {
    expect(problemsOf({ LOCAL_AUTH: 'false' })).toEqual([expect.stringContaining('LOCAL_AUTH=false needs JWT_JWKS_URL')]);
    expect(problemsOf({ LOCAL_AUTH: 'yes' })).toEqual([expect.stringContaining('LOCAL_AUTH must be true or false')]);
  });

  it('takes PASSWORD_SCRYPT_N as a power of two from 2^10 to 2^20', () => {
    expect(loadConfig({ PASSWORD_SCRYPT_N: '16384' }, tempDir()).config.passwords.scryptN).toBe(16_384);
    for (const text of ['1000', '512', String(2 ** 21), 'lots']) {
      expect(problemsOf({ PASSWORD_SCRYPT_N: text }), text).toEqual([expect.stringContaining('PASSWORD_SCRYPT_N')]);
    }
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

  it('writes pretty log lines when stderr is a terminal and JSON lines otherwise, unless LOG_FORMAT says', () => {
    const cwd = tempDir();
    expect(loadConfig({}, cwd, true).config.logFormat).toBe('pretty');
    expect(loadConfig({}, cwd, false).config.logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'json' }, cwd, true).config.logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }, cwd, false).config.logFormat).toBe('pretty');
    expect(problemsOf({ LOG_FORMAT: 'xml' })).toEqual(['LOG_FORMAT must be one of pretty, json']);
  });

  it('has the contract’s abuse limits by default, the client IP from the socket', () => {
    const { config } = loadConfig({}, tempDir());
    expect(config.rateLimits).toEqual({
      send: { points: 100, seconds: 10 },
      loginUser: { points: 10, seconds: 900 },
      loginIp: { points: 100, seconds: 900 },
      registerIp: { points: 20, seconds: 3600 },
      wsMessages: { points: 300, seconds: 10 },
      userSearch: { points: 30, seconds: 10 },
    });
    expect(config.maxSubscriptionsPerSocket).toBe(100);
    expect(config.maxSocketsPerUser).toBe(20);
    expect(config.trustProxy).toBe(0);
  });

  it('reads the abuse limits from the environment', () => {
    const { config } = loadConfig(
      {
        RATE_LIMIT_SEND: '5/2s',
        RATE_LIMIT_LOGIN_USER: '3/1h',
        RATE_LIMIT_LOGIN_IP: '50/30m',
        RATE_LIMIT_REGISTER_IP: '1/1d',
        RATE_LIMIT_WS_MESSAGES: '1000/60',
        RATE_LIMIT_USER_SEARCH: '4/1m',
        MAX_SUBSCRIPTIONS_PER_SOCKET: '7',
        MAX_SOCKETS_PER_USER: '2',
        TRUST_PROXY: '1',
      },
      tempDir(),
    );
    expect(config.rateLimits).toEqual({
      send: { points: 5, seconds: 2 },
      loginUser: { points: 3, seconds: 3600 },
      loginIp: { points: 50, seconds: 1800 },
      registerIp: { points: 1, seconds: 86_400 },
      wsMessages: { points: 1000, seconds: 60 },
      userSearch: { points: 4, seconds: 60 },
    });
    expect(config.maxSubscriptionsPerSocket).toBe(7);
    expect(config.maxSocketsPerUser).toBe(2);
    expect(config.trustProxy).toBe(1);
  });

  it('lists every malformed abuse limit', () => {
    const problems = problemsOf({
      RATE_LIMIT_SEND: '100',
      RATE_LIMIT_LOGIN_USER: '0/15m',
      RATE_LIMIT_LOGIN_IP: 'ten/15m',
      RATE_LIMIT_REGISTER_IP: '20/1w',
      RATE_LIMIT_WS_MESSAGES: '300/0s',
      RATE_LIMIT_USER_SEARCH: '30',
      MAX_SUBSCRIPTIONS_PER_SOCKET: '0',
      MAX_SOCKETS_PER_USER: 'many',
      TRUST_PROXY: '-1',
    });
    const names = [
      'RATE_LIMIT_SEND',
      'RATE_LIMIT_LOGIN_USER',
      'RATE_LIMIT_LOGIN_IP',
      'RATE_LIMIT_REGISTER_IP',
      'RATE_LIMIT_WS_MESSAGES',
      'RATE_LIMIT_USER_SEARCH',
      'MAX_SUBSCRIPTIONS_PER_SOCKET',
      'MAX_SOCKETS_PER_USER',
      'TRUST_PROXY',
    ];
    expect(problems).toHaveLength(names.length);
    for (const name of names) expect(problems.some((p) => p.includes(name))).toBe(true);
  });

  it('caps sockets not yet acknowledged at 50 per client IP by default, MAX_PENDING_SOCKETS_PER_IP otherwise (at least 1)', () => {
    expect(loadConfig({}, tempDir()).config.maxPendingSocketsPerIp).toBe(50);
    expect(loadConfig({ MAX_PENDING_SOCKETS_PER_IP: '5' }, tempDir()).config.maxPendingSocketsPerIp).toBe(5);
    for (const text of ['0', 'many', '2.5']) {
      const problems = problemsOf({ MAX_PENDING_SOCKETS_PER_IP: text });
      expect(problems).toEqual([`MAX_PENDING_SOCKETS_PER_IP must be an integer >= 1, got "${text}"`]);
    }
  });

  it('defaults the request limits to the contract and GraphiQL, introspection and suggestions on', () => {
    const { config } = loadConfig({}, tempDir());
    expect(config.requestLimits).toEqual({
      depth: 12,
      aliases: 30,
      tokens: 2000,
      directives: 50,
      cost: 75_000,
      bodyBytes: 262_144,
      wsPayloadBytes: 65_536,
    });
    expect(config.corsOrigins).toEqual([]);
    expect(config.exposure).toEqual({ graphiql: true, introspection: true, fieldSuggestions: true });
  });

  it('reads each request limit from its variable', () => {
    const { config } = loadConfig(
      {
        MAX_QUERY_DEPTH: '8',
        MAX_ALIASES: '5',
        MAX_TOKENS: '500',
        MAX_DIRECTIVES: '3',
        MAX_QUERY_COST: '1000',
        MAX_BODY_BYTES: '65536',
        WS_MAX_PAYLOAD_BYTES: '16384',
      },
      tempDir(),
    );
    expect(config.requestLimits).toEqual({
      depth: 8,
      aliases: 5,
      tokens: 500,
      directives: 3,
      cost: 1000,
      bodyBytes: 65_536,
      wsPayloadBytes: 16_384,
    });
    expect(problemsOf({ MAX_QUERY_DEPTH: '0', MAX_BODY_BYTES: '1k', WS_MAX_PAYLOAD_BYTES: '-1' })).toEqual([
      expect.stringContaining('MAX_QUERY_DEPTH'),
      expect.stringContaining('MAX_BODY_BYTES'),
      expect.stringContaining('WS_MAX_PAYLOAD_BYTES'),
    ]);
  });

  it('turns GraphiQL, introspection and suggestions off under NODE_ENV=production unless asked for', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'memory://', JWT_SECRET: SECRET };
    expect(loadConfig(production, tempDir()).config.exposure).toEqual({
      graphiql: false,
      introspection: false,
      fieldSuggestions: false,
    });
    const asked = { ...production, GRAPHIQL: 'true', INTROSPECTION: 'true', FIELD_SUGGESTIONS: 'false' };
    expect(loadConfig(asked, tempDir()).config.exposure).toEqual({
      graphiql: true,
      introspection: true,
      fieldSuggestions: false,
    });
    expect(loadConfig({ INTROSPECTION: 'false' }, tempDir()).config.exposure.introspection).toBe(false);
    expect(problemsOf({ GRAPHIQL: 'yes' })).toEqual([expect.stringContaining('GRAPHIQL must be true or false')]);
  });

  it('reads CORS_ORIGINS as a comma-separated list of origins or *', () => {
    const { config } = loadConfig(
      { CORS_ORIGINS: 'https://Chat.Example, http://localhost:5173/ ,https://a.example:443' },
      tempDir(),
    );
    expect(config.corsOrigins).toEqual(['https://chat.example', 'http://localhost:5173', 'https://a.example']);
    expect(loadConfig({ CORS_ORIGINS: '*' }, tempDir()).config.corsOrigins).toEqual(['*']);
    const problems = problemsOf({ CORS_ORIGINS: 'chat.example,https://chat.example/app,ftp://x.example' });
    expect(problems).toHaveLength(3);
    for (const problem of problems) expect(problem).toContain('CORS_ORIGINS');
  });

  it('accepts every document with the kit’s manifest by default; TRUSTED_DOCUMENTS=only and more manifests on request', () => {
    const kit = fileURLToPath(new URL('../../client/generated/persisted-documents.json', import.meta.url));
    expect(loadConfig({}, tempDir()).config.trustedDocuments).toEqual({ mode: 'accept', manifests: [kit] });
    const cwd = tempDir();
    const { config } = loadConfig({ TRUSTED_DOCUMENTS: 'only', TRUSTED_DOCUMENTS_MANIFEST: 'ops/a.json, /srv/b.json' }, cwd);
    expect(config.trustedDocuments).toEqual({ mode: 'only', manifests: [kit, join(cwd, 'ops/a.json'), '/srv/b.json'] });
    expect(problemsOf({ TRUSTED_DOCUMENTS: 'strict' })).toEqual(['TRUSTED_DOCUMENTS must be one of accept, only, got "strict"']);
  });

  it('reads MAX_STREAMS_PER_USER, 20 by default', () => {
    expect(loadConfig({}, tempDir()).config.maxStreamsPerUser).toBe(20);
    expect(loadConfig({ MAX_STREAMS_PER_USER: '3' }, tempDir()).config.maxStreamsPerUser).toBe(3);
    expect(problemsOf({ MAX_STREAMS_PER_USER: '0' })).toEqual([expect.stringContaining('MAX_STREAMS_PER_USER')]);
  });

  it('reads the moderation limits and the log’s retention, with their defaults', () => {
    const { config } = loadConfig({}, tempDir());
    expect(config.moderation).toEqual({ logRetentionDays: 90, logSweepMs: 3_600_000 });
    expect(config.mutationRateLimits).toMatchObject({
      moderation: { points: 60, seconds: 60 },
      reports: { points: 10, seconds: 60 },
      blocks: { points: 30, seconds: 60 },
    });
    const env = {
      MODERATION_LOG_RETENTION_DAYS: '30',
      MODERATION_LOG_SWEEP_MS: '60000',
      RATE_LIMIT_MODERATION: '5/1m',
      RATE_LIMIT_REPORTS: '1/1h',
      RATE_LIMIT_BLOCKS: '2/10s',
    };
    const read = loadConfig(env, tempDir()).config;
    expect(read.moderation).toEqual({ logRetentionDays: 30, logSweepMs: 60_000 });
    expect(read.mutationRateLimits).toMatchObject({
      moderation: { points: 5, seconds: 60 },
      reports: { points: 1, seconds: 3600 },
      blocks: { points: 2, seconds: 10 },
    });
    expect(
      problemsOf({ MODERATION_LOG_RETENTION_DAYS: '0', MODERATION_LOG_SWEEP_MS: '10', RATE_LIMIT_REPORTS: 'often' }),
    ).toEqual([
      expect.stringContaining('RATE_LIMIT_REPORTS'),
      expect.stringContaining('MODERATION_LOG_RETENTION_DAYS'),
      expect.stringContaining('MODERATION_LOG_SWEEP_MS'),
    ]);
  });

  it('reads ALLOWED_HOSTS as comma-separated host or host:port entries, none by default', () => {
    expect(loadConfig({}, tempDir()).config.allowedHosts).toEqual([]);
    const { config } = loadConfig({ ALLOWED_HOSTS: 'Chat.Example.com, localhost:4000,[::1]:4000 ,10.0.0.5' }, tempDir());
    expect(config.allowedHosts).toEqual([
      { hostname: 'chat.example.com', port: null },
      { hostname: 'localhost', port: '4000' },
      { hostname: '[::1]', port: '4000' },
      { hostname: '10.0.0.5', port: null },
    ]);
    const problems = problemsOf({ ALLOWED_HOSTS: 'https://chat.example.com,chat.example.com/app,a.example:99999,a b' });
    expect(problems).toHaveLength(4);
    for (const problem of problems) expect(problem).toContain('ALLOWED_HOSTS');
  });

  it('reads the HTTP server’s timeouts and connection cap, the headers timeout no longer than the request timeout', () => {
    expect(loadConfig({}, tempDir()).config.httpServer).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxConnections: 10_000,
    });
    const env = { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '5000', MAX_CONNECTIONS: '50' };
    expect(loadConfig(env, tempDir()).config.httpServer).toEqual({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 5000,
      maxConnections: 50,
    });
    expect(problemsOf({ HTTP_HEADERS_TIMEOUT_MS: '40000' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS',
    ]);
    const problems = problemsOf({ HTTP_HEADERS_TIMEOUT_MS: '10', HTTP_REQUEST_TIMEOUT_MS: 'soon', MAX_CONNECTIONS: '0' });
    for (const name of ['HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS', 'MAX_CONNECTIONS'])
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
  });

  it('reads the database deadlines and breaker settings, the search timeout shorter than the query deadline', () => {
    const env = {
      DATABASE_QUERY_TIMEOUT_MS: '3000',
      SEARCH_TIMEOUT_MS: '1000',
      DATABASE_BREAKER_THRESHOLD: '5',
      DATABASE_BREAKER_PROBE_MS: '250',
      DATABASE_EXPENSIVE_CONCURRENCY: '3',
    };
    expect(loadConfig(env, tempDir()).config.database).toMatchObject({
      queryTimeoutMs: 3000,
      searchTimeoutMs: 1000,
      breakerThreshold: 5,
      breakerProbeMs: 250,
      expensiveConcurrency: 3,
    });
    expect(problemsOf({ DATABASE_QUERY_TIMEOUT_MS: '2000', SEARCH_TIMEOUT_MS: '2000' })).toEqual([
      expect.stringContaining('SEARCH_TIMEOUT_MS must be shorter'),
    ]);
    expect(problemsOf({ DATABASE_QUERY_TIMEOUT_MS: 'soon', DATABASE_BREAKER_THRESHOLD: '0' })).toHaveLength(2);
  });

  it('reads the webhook settings: none by default, a whsec_ secret required with URLs, a private destination refused unless allowed', () => {
    const whsec = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(loadConfig({}, tempDir()).config.webhooks).toMatchObject({
      urls: [],
      secret: null,
      previousSecret: null,
      allowPrivate: false,
      worker: true,
      retryBaseMs: 5000,
      retryForMs: 86_400_000,
      timeoutMs: 5000,
    });
    const { config } = loadConfig(
      {
        WEBHOOK_URLS: 'https://hooks.example.com/a, http://10.0.0.5:8080/b',
        WEBHOOK_SECRET: whsec,
        WEBHOOK_SECRET_PREVIOUS: whsec,
        WEBHOOK_ALLOW_PRIVATE: 'true',
      },
      tempDir(),
    );
    expect(config.webhooks).toMatchObject({
      urls: ['https://hooks.example.com/a', 'http://10.0.0.5:8080/b'],
      secret: whsec,
      previousSecret: whsec,
      allowPrivate: true,
    });
    expect(problemsOf({ WEBHOOK_URLS: 'https://hooks.example.com/a' })).toEqual(['WEBHOOK_SECRET is required with WEBHOOK_URLS']);
    expect(
      problemsOf({ WEBHOOK_URLS: 'ftp://x/, https://u:p@x/', WEBHOOK_SECRET: 'plain', WEBHOOK_ALLOW_PRIVATE: 'yes' }),
    ).toEqual([
      'WEBHOOK_URLS holds "ftp://x/", which is not an http(s) URL without credentials',
      'WEBHOOK_URLS holds "https://u:p@x/", which is not an http(s) URL without credentials',
      'WEBHOOK_SECRET must be whsec_ followed by base64 (Standard Webhooks)',
      'WEBHOOK_ALLOW_PRIVATE must be true or false, got "yes"',
    ]);
    expect(problemsOf({ WEBHOOK_SECRET: 'whsec_c2hvcnQ=' })).toEqual(['WEBHOOK_SECRET must hold 24 to 64 bytes, got 5']);
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

describe('loadConfig: Web Push (VAPID_*, PUSH_*)', () => {
  const PUBLIC = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
  const PRIVATE = Buffer.alloc(32, 2).toString('base64url');

  it('generates a key pair once into .data/vapid.json (0600) on the embedded defaults, quietly', () => {
    const cwd = tempDir();
    const { config, warnings } = loadConfig({}, cwd);
    expect(config.push).toMatchObject({ batchMs: 60_000, offlineMs: 30_000, allowLoopbackHttp: false, timeoutMs: 10_000 });
    expect(Buffer.from(config.push.vapid!.publicKey, 'base64url')).toHaveLength(65);
    expect(Buffer.from(config.push.vapid!.privateKey, 'base64url')).toHaveLength(32);
    expect(config.push.vapid!.subject).toMatch(/^mailto:/);
    expect(warnings.join()).not.toContain('VAPID');
    expect(statSync(join(cwd, DEV_VAPID_FILE)).mode & 0o777).toBe(0o600);
    expect(loadConfig({}, cwd).config.push.vapid).toEqual(config.push.vapid);
  });

  it('turns Web Push off without keys in production or beside DATABASE_URL / REDIS_URL, and writes no keys', () => {
    const cwd = tempDir();
    const secret = 'x'.repeat(40);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }, cwd).config.push.vapid).toBeNull();
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', JWT_SECRET: secret }, cwd).config.push.vapid).toBeNull();
    expect(existsSync(join(cwd, DEV_VAPID_FILE))).toBe(false);
  });

  it('takes configured keys with their subject, and lists every problem of them', () => {
    const env = {
      VAPID_PUBLIC_KEY: PUBLIC,
      VAPID_PRIVATE_KEY: PRIVATE,
      VAPID_SUBJECT: 'mailto:ops@example.com',
      PUSH_BATCH_MS: '500',
    };
    const { config } = loadConfig(env, tempDir());
    expect(config.push).toMatchObject({
      vapid: { publicKey: PUBLIC, privateKey: PRIVATE, subject: 'mailto:ops@example.com' },
      batchMs: 500,
    });
    expect(problemsOf({ VAPID_PUBLIC_KEY: PUBLIC }).join()).toContain('go together');
    expect(problemsOf({ VAPID_PUBLIC_KEY: PUBLIC, VAPID_PRIVATE_KEY: PRIVATE }).join()).toContain('VAPID_SUBJECT is required');
    expect(problemsOf({ ...env, VAPID_SUBJECT: 'http://example.com' }).join()).toContain('mailto: or https:');
    expect(problemsOf({ ...env, VAPID_PRIVATE_KEY: 'short' }).join()).toContain('VAPID_PRIVATE_KEY must be');
    expect(problemsOf({ PUSH_ALLOW_LOOPBACK_HTTP: 'yes' }).join()).toContain('PUSH_ALLOW_LOOPBACK_HTTP');
  });
});

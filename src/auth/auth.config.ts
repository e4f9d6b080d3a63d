import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../data-dir.js';

/** Where tokens come from and how they are checked (the JWT_* variables). */
export interface JwtConfig {
  /**
   * The HS256 secret of the tokens this server issues (`JWT_SECRET`); a
   * generated one only with the embedded defaults outside production; null
   * when it issues none (an identity provider without `LOCAL_AUTH`).
   */
  readonly secret: Uint8Array | null;
  /**
   * Lifetime of the tokens this server issues (`JWT_TTL`).
   * @default 3600
   */
  readonly ttlSeconds: number;
  /**
   * `JWT_ISSUER`: the `iss` this server's tokens carry and every token must
   * carry; with an identity provider, the provider's issuer (required then).
   * @default null
   */
  readonly issuer: string | null;
  /**
   * `JWT_AUDIENCE`: likewise for `aud`.
   * @default null
   */
  readonly audience: string | null;
  /**
   * An external identity provider whose tokens are verified against its
   * JSON Web Key Set (`JWT_JWKS_URL`); null: tokens are this server's own.
   * @default null
   */
  readonly jwks: JwksConfig | null;
}

/** How long a signed-in session lasts, and how soon its user's removal is noticed. */
export interface SessionConfig {
  /**
   * The longest a session lasts from its sign-in (`SESSION_MAX_AGE`): refreshToken answers TOKEN_EXPIRED
   * past it, and no token's exp passes it.
   * @default 2592000 (30 days)
   */
  readonly maxAgeSeconds: number;
  /**
   * How long a verified token's user (and a cached user) is trusted before the database is asked again, in ms
   * (`USER_RECHECK_MS`): the bound on how long a deleted user's tokens keep working on an instance.
   * @default 10000
   */
  readonly userRecheckMs: number;
}

export interface JwksConfig {
  readonly url: string;
  /**
   * Signature algorithms accepted, asymmetric only (`JWT_ALGORITHMS`).
   * @default ['RS256', 'ES256']
   */
  readonly algorithms: readonly string[];
  /**
   * The claim a provisioned user's username is made from (`JWT_USERNAME_CLAIM`).
   * @default 'preferred_username'
   */
  readonly usernameClaim: string;
  /**
   * After a fetch of the key set, how long a token with an unknown `kid`
   * is refused without fetching again, in ms (`JWT_JWKS_COOLDOWN_MS`).
   * @default 30000
   */
  readonly cooldownMs: number;
  /**
   * A fetch of the key set that takes longer fails the verification, in ms (`JWT_JWKS_TIMEOUT_MS`, at most 5000).
   * @default 3000
   */
  readonly timeoutMs: number;
}

export interface AuthConfig {
  jwt: JwtConfig;
  /** `register` and `login` are served (`LOCAL_AUTH`): true by default without an identity provider, false with one. */
  localAuth: boolean;
  /** scrypt cost of new password hashes (`PASSWORD_SCRYPT_N`, a power of two, 2^10-2^20); OWASP's 2^17 by default. */
  passwords: { readonly scryptN: number };
}

export interface AuthConfigContext {
  /** NODE_ENV=production: never a generated secret. */
  production: boolean;
  /** No DATABASE_URL and no REDIS_URL: a single embedded instance, where a generated dev secret is allowed. */
  embedded: boolean;
  /** Where the generated development secret is kept. */
  devSecretFile: string;
  /** `JWT_SECRET` as given (not trimmed: its bytes are the key). */
  secretText: string | undefined;
}

export const MIN_SECRET_BYTES = 32;
/** Asymmetric JWS algorithms jose verifies; HS* and none never come from a key set. */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
export const DEFAULT_SCRYPT_N = 2 ** 17;

/**
 * The auth part of loadConfig (config.ts stays the only reader of the
 * environment: `read` is its reader). Problems are added to `problems`.
 */
export function parseAuthConfig(
  read: (name: string) => string | undefined,
  ttlSeconds: number,
  context: AuthConfigContext,
  problems: string[],
  warnings: string[],
): AuthConfig {
  const issuer = read('JWT_ISSUER') ?? null;
  const audience = read('JWT_AUDIENCE') ?? null;

  let jwks: JwksConfig | null = null;
  const jwksUrl = read('JWT_JWKS_URL');
  if (jwksUrl !== undefined) {
    if (!/^https?:\/\/\S+$/.test(jwksUrl)) problems.push('JWT_JWKS_URL must be an http:// or https:// URL');
    if (issuer === null) problems.push("JWT_ISSUER is required with JWT_JWKS_URL (the identity provider's issuer)");
    if (audience === null) problems.push("JWT_AUDIENCE is required with JWT_JWKS_URL (this API's audience at the provider)");
    const algorithms = (read('JWT_ALGORITHMS') ?? 'RS256,ES256').split(',').map((a) => a.trim());
    const refused = algorithms.filter((a) => !ASYMMETRIC.includes(a));
    if (refused.length > 0) {
      problems.push(`JWT_ALGORITHMS may list only asymmetric algorithms (${ASYMMETRIC.join(', ')}), got "${refused.join(',')}"`);
    }
    const cooldownMs = integerIn(read, 'JWT_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000, problems);
    const timeoutMs = integerIn(read, 'JWT_JWKS_TIMEOUT_MS', 3000, 100, 5000, problems);
    if (context.production && jwksUrl.startsWith('http://'))
      warnings.push('JWT_JWKS_URL is plain http: keys can be forged in transit');
    jwks = { url: jwksUrl, algorithms, usernameClaim: read('JWT_USERNAME_CLAIM') ?? 'preferred_username', cooldownMs, timeoutMs };
  } else if (read('JWT_ALGORITHMS') !== undefined) {
    problems.push('JWT_ALGORITHMS applies only with JWT_JWKS_URL (this server signs its own tokens with HS256)');
  }

  const localText = read('LOCAL_AUTH');
  let localAuth = jwks === null;
  if (localText !== undefined) {
    if (localText !== 'true' && localText !== 'false') {
      problems.push(`LOCAL_AUTH must be true or false, got "${localText}"`);
    } else {
      localAuth = localText === 'true';
      if (!localAuth && jwks === null) problems.push('LOCAL_AUTH=false needs JWT_JWKS_URL: otherwise nobody could sign in');
    }
  }

  // A secret only where this server issues tokens of its own.
  let secret: Uint8Array | null = null;
  const { secretText } = context;
  if (secretText !== undefined && secretText !== '') {
    secret = new TextEncoder().encode(secretText);
    if (secret.byteLength < MIN_SECRET_BYTES) problems.push(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  } else if (localAuth) {
    if (context.production) {
      problems.push(`JWT_SECRET is required when NODE_ENV=production (at least ${MIN_SECRET_BYTES} bytes): no generated secret`);
    } else if (!context.embedded) {
      problems.push(`JWT_SECRET is required when DATABASE_URL or REDIS_URL is set (at least ${MIN_SECRET_BYTES} bytes)`);
    } else {
      secret = loadOrCreateDevSecret(context.devSecretFile);
      warnings.push(`JWT_SECRET is not set: using a generated development secret stored in ${context.devSecretFile}`);
    }
  }

  const scryptText = read('PASSWORD_SCRYPT_N') ?? String(DEFAULT_SCRYPT_N);
  const scryptN = Number(scryptText);
  if (!Number.isInteger(scryptN) || scryptN < 2 ** 10 || scryptN > 2 ** 20 || (scryptN & (scryptN - 1)) !== 0) {
    problems.push(`PASSWORD_SCRYPT_N must be a power of two from 1024 to 1048576, got "${scryptText}"`);
  }

  return {
    jwt: Object.freeze({ secret, ttlSeconds, issuer, audience, jwks: jwks && Object.freeze(jwks) }),
    localAuth,
    passwords: Object.freeze({ scryptN }),
  };
}

function integerIn(
  read: (name: string) => string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const text = read(name) ?? String(fallback);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) problems.push(`${name} must be an integer ${min}-${max}, got "${text}"`);
  return n;
}

/**
 * The development secret, persisted so tokens survive a restart. Its
 * directory (.data) is made private (0700) and the file 0600: whoever reads
 * it can sign in as anyone.
 */
function loadOrCreateDevSecret(file: string): Uint8Array {
  ensurePrivateDir(dirname(file));
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    const stored = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    if (stored.byteLength >= MIN_SECRET_BYTES) return new Uint8Array(stored);
  }
  const fresh = randomBytes(48);
  writeFileSync(file, fresh.toString('base64url') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600); // mode applies only to a file that writeFileSync creates
  return new Uint8Array(fresh);
}

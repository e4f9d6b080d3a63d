import { errors, jwtVerify, SignJWT } from 'jose';
import { VerifiedTokenCache, type UserCheck } from './token-cache.js';
import { EXPIRED, INVALID, signedInAt, type TokenCheck, type TokenVerifier } from './verification.js';

export type { TokenCheck, TokenRejection, TokenVerifier } from './verification.js';

export interface TokenIssuer extends TokenVerifier {
  /**
   * A token for the user, in the session that began at `signedInAt`
   * (seconds since the epoch; a new session now when left out), which it
   * carries as `auth_time`. Its exp is a TTL from now, but never past the
   * session's end (`signedInAt` + sessionMaxAgeSeconds).
   */
  sign(userId: string, signedInAt?: number): Promise<string>;
}

/**
 * A longer token is refused before any parsing or signature check (and
 * before a key set is fetched for it): ours are a few hundred bytes, a
 * provider's a few KiB at most.
 */
export const MAX_TOKEN_LENGTH = 8 * 1024;

export interface LocalTokenOptions {
  /** At least 32 bytes (config.ts enforces it). */
  secret: Uint8Array;
  ttlSeconds: number;
  /** How long a session lasts from its sign-in: no token's exp passes its end. */
  sessionMaxAgeSeconds: number;
  /** Set on every token signed and required of every token verified. */
  issuer?: string | null;
  /** Likewise for `aud`. */
  audience?: string | null;
  /**
   * How many verified tokens are remembered, so a client's next request with
   * the same token skips the signature check. The oldest go first.
   * @default 10000
   */
  cacheSize?: number;
  /** Whether a token's user still exists (token-cache.ts); without it, a well-signed token is enough. */
  users?: UserCheck;
}

/** This server's own tokens: HS256 with its secret, `sub` the user id, `exp` always. */
export function createTokenIssuer(options: LocalTokenOptions): TokenIssuer {
  const { secret, ttlSeconds, issuer = null, audience = null } = options;
  const cache = new VerifiedTokenCache(options.cacheSize ?? 10_000, options.users);
  // Imported once: given raw bytes, jose imports a WebCrypto key on every call.
  let imported: Promise<CryptoKey> | null = null;
  const key = () =>
    (imported ??= crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]));
  return {
    async sign(userId, signedInAt) {
      const now = Math.floor(Date.now() / 1000);
      const authTime = signedInAt ?? now;
      const jwt = new SignJWT({ auth_time: authTime })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(Math.min(now + ttlSeconds, authTime + options.sessionMaxAgeSeconds));
      if (issuer !== null) jwt.setIssuer(issuer);
      if (audience !== null) jwt.setAudience(audience);
      return jwt.sign(await key());
    },
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) return INVALID;
      const cached = await cache.get(token);
      if (cached !== undefined) return cached;
      let verified: Extract<TokenCheck, { ok: true }>;
      try {
        // The allow-list matters: without it an HS512 token with the same secret passes.
        const { payload } = await jwtVerify(token, await key(), {
          algorithms: ['HS256'],
          requiredClaims: ['sub', 'exp'],
          ...(issuer !== null && { issuer }),
          ...(audience !== null && { audience }),
        });
        if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return INVALID;
        verified = Object.freeze({
          ok: true as const,
          userId: payload.sub,
          expiresAt: payload.exp * 1000,
          signedInAt: signedInAt(payload),
        });
      } catch (error) {
        return rejection(error);
      }
      return cache.accept(token, verified);
    },
  };
}

/** jose's verdict as a reason: expired only for a token that is otherwise good (jose checks the signature first). */
export function rejection(error: unknown): TokenCheck {
  return error instanceof errors.JWTExpired ? EXPIRED : INVALID;
}

/** "Bearer <token>" -> token; anything else -> null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

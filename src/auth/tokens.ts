import { jwtVerify, SignJWT } from 'jose';

export interface VerifiedToken {
  readonly userId: string;
  /** When the token stops being valid, in ms since the epoch (its `exp`). */
  readonly expiresAt: number;
}

export interface TokenIssuer {
  sign(userId: string): Promise<string>;
  /** The user id of a valid token; null for anything else (malformed, bad signature, expired, wrong alg). */
  verify(token: string): Promise<VerifiedToken | null>;
}

export interface TokenIssuerOptions {
  /**
   * How many verified tokens are remembered, so a client's next request with
   * the same token skips the signature check. The oldest go first.
   * @default 10000
   */
  cacheSize?: number;
}

export function createTokenIssuer(secret: Uint8Array, ttlSeconds: number, options: TokenIssuerOptions = {}): TokenIssuer {
  const cache = new VerifiedTokenCache(options.cacheSize ?? 10_000);
  // Imported once: given raw bytes, jose imports a WebCrypto key on every call.
  let imported: Promise<CryptoKey> | null = null;
  const key = () =>
    (imported ??= crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]));
  return {
    async sign(userId) {
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(await key());
    },
    async verify(token) {
      const cached = cache.get(token);
      if (cached !== undefined) return cached;
      try {
        // The allow-list matters: without it an HS512 token with the same secret passes.
        const { payload } = await jwtVerify(token, await key(), { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
        if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
        const verified: VerifiedToken = Object.freeze({ userId: payload.sub, expiresAt: payload.exp * 1000 });
        cache.set(token, verified);
        return verified;
      } catch {
        return null;
      }
    },
  };
}

/**
 * Tokens whose signature and claims were checked, each until its `exp` and
 * never past it: from `exp * 1000` ms on a hit answers null, as jose would
 * (it refuses `exp <= now` in whole seconds). Only accepted tokens are kept,
 * keyed by the whole token, so nothing unsigned can fill it. jose's check
 * (a WebCrypto key import and HMAC per call) was about a quarter of the CPU
 * of a small authenticated request, and clients send one token many times.
 */
class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly capacity: number) {}

  /** The verified token, null once it has expired, undefined when unknown. */
  get(token: string): VerifiedToken | null | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (Date.now() < entry.expiresAt) return entry;
    this.entries.delete(token);
    return null;
  }

  set(token: string, verified: VerifiedToken): void {
    if (this.capacity <= 0 || Date.now() >= verified.expiresAt) return;
    if (this.entries.size >= this.capacity) {
      // Map iterates in insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, verified);
  }
}

/** "Bearer <token>" -> token; anything else -> null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

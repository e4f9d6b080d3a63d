import { jwtVerify, SignJWT } from 'jose';

export interface TokenIssuer {
  sign(userId: string): Promise<string>;
  /** The user id of a valid token; null for anything else (malformed, bad signature, expired, wrong alg). */
  verify(token: string): Promise<{ userId: string; expiresAt: number } | null>;
}

export function createTokenIssuer(secret: Uint8Array, ttlSeconds: number): TokenIssuer {
  return {
    async sign(userId) {
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(secret);
    },
    async verify(token) {
      try {
        // The allow-list matters: without it an HS512 token with the same secret passes.
        const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
        if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
        return { userId: payload.sub, expiresAt: payload.exp * 1000 };
      } catch {
        return null;
      }
    },
  };
}

/** "Bearer <token>" -> token; anything else -> null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

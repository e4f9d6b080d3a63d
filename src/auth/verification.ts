/**
 * What checking a token finds, shared by this server's own tokens (tokens.ts),
 * an identity provider's (jwks.ts) and the cache of accepted ones (token-cache.ts).
 */

/** Why a token was refused: UNAUTHENTICATED's extensions.reason over HTTP. */
export type TokenRejection = 'TOKEN_INVALID' | 'TOKEN_EXPIRED';

/** What verifying a token found: whose it is and until when, or why it is refused. */
export type TokenCheck =
  | {
      readonly ok: true;
      readonly userId: string;
      /** When the token stops being valid, in ms since the epoch (its `exp`). */
      readonly expiresAt: number;
      /**
       * When its session began, in seconds since the epoch: `auth_time`, kept
       * across refreshes, else `iat`; null when it has neither.
       */
      readonly signedInAt: number | null;
    }
  | { readonly ok: false; readonly reason: TokenRejection };

export interface TokenVerifier {
  /** Never throws for a bad token (malformed, bad signature, expired, wrong alg, iss or aud): it answers why. */
  verify(token: string): Promise<TokenCheck>;
}

export const EXPIRED: TokenCheck = Object.freeze({ ok: false, reason: 'TOKEN_EXPIRED' });
export const INVALID: TokenCheck = Object.freeze({ ok: false, reason: 'TOKEN_INVALID' });

/** When a token's session began (TokenCheck.signedInAt) from its claims. */
export function signedInAt(payload: { auth_time?: unknown; iat?: unknown }): number | null {
  if (typeof payload.auth_time === 'number') return payload.auth_time;
  return typeof payload.iat === 'number' ? payload.iat : null;
}

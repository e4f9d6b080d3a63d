import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Logger } from '../logger.js';
import type { JwksConfig } from './auth.config.js';
import { VerifiedTokenCache, type UserCheck } from './token-cache.js';
import { MAX_TOKEN_LENGTH, rejection, type TokenCheck, type TokenVerifier } from './tokens.js';
import { INVALID, signedInAt } from './verification.js';

export interface ProviderTokenOptions {
  jwks: JwksConfig;
  /** The provider's `iss` and this API's `aud` there: both required of every token. */
  issuer: string;
  audience: string;
  /** The local user of a subject, created on first sight: its id. */
  provision(identity: { issuer: string; subject: string; username: unknown }): Promise<string>;
  /**
   * This server's own tokens (LOCAL_AUTH=true): an HS256 token goes to it and
   * is checked with this server's secret, never against the key set.
   */
  local: TokenVerifier | null;
  logger: Logger;
  /** @default 10000 */
  cacheSize?: number;
  /** Whether a provisioned user still exists, re-asked while a token is cached (token-cache.ts). */
  users?: UserCheck;
}

/** OpenID Connect's bound on `sub` (at most 255 ASCII characters). */
const MAX_SUBJECT_LENGTH = 255;

/**
 * Tokens of an external identity provider, verified against its JSON Web Key
 * Set with jose's createRemoteJWKSet: keys are cached (refetched after 10
 * minutes), a token whose `kid` is unknown makes it fetch again unless it
 * fetched within the cooldown, and a fetch that takes longer than the
 * timeout fails the verification instead of holding the request.
 *
 * Never accepted: an algorithm outside the list (so never HS* or none from
 * the key set: an HS256 token "signed" with a public key fails), a token
 * longer than MAX_TOKEN_LENGTH (refused before parsing, so it costs no
 * fetch), one without `exp` or `sub`, or with another `iss` or `aud`.
 */
export function createProviderVerifier(options: ProviderTokenOptions): TokenVerifier {
  const { jwks, issuer, audience, local, logger } = options;
  const keys = createRemoteJWKSet(new URL(jwks.url), {
    cooldownDuration: jwks.cooldownMs,
    timeoutDuration: jwks.timeoutMs,
  });
  const cache = new VerifiedTokenCache(options.cacheSize ?? 10_000, options.users);
  const verifyOptions = { algorithms: [...jwks.algorithms], issuer, audience, requiredClaims: ['sub', 'exp'] };

  async function verifyAgainstKeys(token: string): Promise<{ payload: JWTPayload } | { refused: TokenCheck }> {
    try {
      return { payload: (await jwtVerify(token, keys, verifyOptions)).payload };
    } catch (error) {
      if (isFetchFailure(error)) {
        logger.warn("the identity provider's key set could not be fetched", { url: jwks.url, error: error as Error });
      }
      return { refused: rejection(error) };
    }
  }

  return {
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) return INVALID;
      const cached = await cache.get(token);
      if (cached !== undefined) return cached;
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        return INVALID;
      }
      if (alg === 'HS256' && local) return local.verify(token);
      const verdict = await verifyAgainstKeys(token);
      if ('refused' in verdict) return verdict.refused;
      const { payload } = verdict;
      const { sub, exp } = payload;
      if (typeof sub !== 'string' || sub === '' || sub.length > MAX_SUBJECT_LENGTH || typeof exp !== 'number') return INVALID;
      // Provisioning errors (the database) are not the token's fault: they propagate.
      const userId = await options.provision({ issuer, subject: sub, username: payload[jwks.usernameClaim] });
      return cache.accept(
        token,
        Object.freeze({ ok: true as const, userId, expiresAt: exp * 1000, signedInAt: signedInAt(payload) }),
      );
    },
  };
}

/** The key set could not be had (timeout, network, not 200, not JSON), as opposed to a token that failed its checks. */
function isFetchFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout) return true;
  if (!(error instanceof errors.JOSEError)) return true;
  return error.code === 'ERR_JOSE_GENERIC';
}

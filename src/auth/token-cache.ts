import { EXPIRED, type TokenCheck } from './verification.js';

type Accepted = Extract<TokenCheck, { ok: true }>;

/**
 * Tokens whose signature and claims were checked, each until its `exp` and
 * never past it: from `exp * 1000` ms on a hit answers "expired", as jose
 * would (it refuses `exp <= now` in whole seconds). Only accepted tokens are
 * kept, keyed by the whole token, so nothing unsigned can fill it. jose's
 * check (a WebCrypto key import and HMAC per call) was about a quarter of the
 * CPU of a small authenticated request, and clients send one token many times.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Accepted>();

  constructor(private readonly capacity: number) {}

  /** The accepted token, "expired" once past its exp, undefined when unknown. */
  get(token: string): TokenCheck | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (Date.now() < entry.expiresAt) return entry;
    this.entries.delete(token);
    return EXPIRED;
  }

  set(token: string, verified: Accepted): void {
    if (this.capacity <= 0 || Date.now() >= verified.expiresAt) return;
    if (this.entries.size >= this.capacity) {
      // Map iterates in insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, verified);
  }
}

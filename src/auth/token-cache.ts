import { EXPIRED, INVALID, type TokenCheck } from './verification.js';

type Accepted = Extract<TokenCheck, { ok: true }>;

/** Whether the user a token names still exists, and how long that answer holds. */
export interface UserCheck {
  /** True while the user exists (and when the database cannot say: a token is then judged by its signature). */
  exists(userId: string): Promise<boolean>;
  /** How long an accepted token's user is trusted before exists() is asked again (ms). */
  readonly recheckMs: number;
}

interface Entry {
  /** The accepted check, or INVALID once its user turned out to be gone. */
  check: TokenCheck;
  /** The token's exp, in ms. */
  readonly expiresAt: number;
  /** When the user is to be looked up again (ms). */
  recheckAt: number;
  /** A look-up under way, shared by the requests that found the entry due. */
  pending: Promise<TokenCheck> | null;
}

/**
 * Tokens whose signature and claims were checked, each until its `exp` and
 * never past it: from `exp * 1000` ms on a hit answers "expired", as jose
 * would (it refuses `exp <= now` in whole seconds). Only tokens that passed
 * their signature check are kept, keyed by the whole token, so nothing
 * unsigned can fill it. jose's check (a WebCrypto key import and HMAC per
 * call) was about a quarter of the CPU of a small authenticated request,
 * and clients send one token many times.
 *
 * A token names a user, who may be deleted while the token lives: with a
 * UserCheck, a token is accepted only while its user exists, asked when the
 * token is first seen and again once `recheckMs` has passed since the last
 * answer. So a deleted user's tokens stop working on every instance within
 * about `recheckMs`, and a busy token costs one look-up per `recheckMs`.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly capacity: number,
    private readonly users: UserCheck | null = null,
  ) {}

  /** The verdict on a token seen before ("expired" once past its exp), undefined when unknown. */
  async get(token: string): Promise<TokenCheck | undefined> {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    const now = Date.now();
    if (now >= entry.expiresAt) {
      this.entries.delete(token);
      return EXPIRED;
    }
    if (!entry.check.ok || !this.users || now < entry.recheckAt) return entry.check;
    return (entry.pending ??= this.recheck(entry, entry.check));
  }

  /** A token whose signature and claims just passed: accepted if its user exists, and remembered either way. */
  async accept(token: string, verified: Accepted): Promise<TokenCheck> {
    const exists = this.users ? await this.users.exists(verified.userId) : true;
    const check = exists ? verified : INVALID;
    this.remember(token, { check, expiresAt: verified.expiresAt, recheckAt: this.recheckTime(), pending: null });
    return check;
  }

  private async recheck(entry: Entry, accepted: Accepted): Promise<TokenCheck> {
    try {
      if (!(await this.users!.exists(accepted.userId))) entry.check = INVALID;
      entry.recheckAt = this.recheckTime();
      return entry.check;
    } finally {
      entry.pending = null;
    }
  }

  private recheckTime(): number {
    return Date.now() + (this.users?.recheckMs ?? Infinity);
  }

  private remember(token: string, entry: Entry): void {
    if (this.capacity <= 0 || Date.now() >= entry.expiresAt) return;
    if (this.entries.size >= this.capacity) {
      // Map iterates in insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, entry);
  }
}

import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** scrypt's cost parameters (RFC 7914). */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP's recommendation for scrypt (Password Storage Cheat Sheet): N=2^17, r=8, p=1, about 128 MiB per hash. */
export const OWASP_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
const KEY_LENGTH = 32;

/**
 * scrypt needs about 128·N·r bytes (plus 128·r·p), and Node refuses to go
 * past `maxmem` (32 MiB by default): N=2^17, r=8 is exactly 128 MiB, so the
 * bound is computed from the parameters with some room.
 */
const maxmemFor = ({ N, r, p }: ScryptParams) => 128 * r * (N + p + 2) + 1024 * 1024;

/** What a stored hash may ask for: anything else is refused rather than run (a corrupted row must not allocate gigabytes). */
const plausible = ({ N, r, p }: ScryptParams) =>
  Number.isInteger(N) &&
  N >= 2 &&
  N <= 2 ** 20 &&
  (N & (N - 1)) === 0 &&
  Number.isInteger(r) &&
  r >= 1 &&
  r <= 32 &&
  Number.isInteger(p) &&
  p >= 1 &&
  p <= 16;

export interface Verification {
  readonly ok: boolean;
  /**
   * The password is right and its hash is weaker than the current parameters
   * make (a lower N, r or p): store a new one. Never the other way, so
   * instances with different settings (a rolling upgrade) do not take turns.
   */
  readonly rehash: boolean;
}

/**
 * Password hashes in the format `scrypt$N$r$p$salt$key` (salt and key
 * base64url). The parameters are stored with each hash, so raising them
 * (PASSWORD_SCRYPT_N) leaves old hashes verifiable; login replaces a hash
 * made with weaker parameters than the current ones.
 */
export class PasswordHasher {
  private decoy: Promise<string> | undefined;

  constructor(readonly params: ScryptParams = OWASP_SCRYPT) {
    if (!plausible(params)) throw new Error('scrypt parameters out of range');
  }

  async hash(password: string): Promise<string> {
    const { N, r, p } = this.params;
    const salt = randomBytes(16);
    const key = await scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N, r, p, maxmem: maxmemFor(this.params) });
    return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  async verify(password: string, stored: string): Promise<Verification> {
    const [scheme, n, r, p, saltText, keyText, extra] = stored.split('$');
    const params = { N: Number(n), r: Number(r), p: Number(p) };
    if (scheme !== 'scrypt' || !saltText || !keyText || extra !== undefined || !plausible(params)) {
      return { ok: false, rehash: false };
    }
    const expected = Buffer.from(keyText, 'base64url');
    if (expected.length < 16) return { ok: false, rehash: false };
    const actual = await scrypt(password.normalize('NFC'), Buffer.from(saltText, 'base64url'), expected.length, {
      ...params,
      maxmem: maxmemFor(params),
    });
    const ok = actual.length === expected.length && timingSafeEqual(actual, expected);
    const current = this.params;
    return { ok, rehash: ok && (params.N < current.N || params.r < current.r || params.p < current.p) };
  }

  /**
   * A hash of a random password with the current parameters, computed once:
   * login verifies against it when the username is unknown (or has no
   * password), so every failure costs the same scrypt run.
   */
  decoyHash(): Promise<string> {
    this.decoy ??= this.hash(randomBytes(16).toString('hex'));
    return this.decoy;
  }
}

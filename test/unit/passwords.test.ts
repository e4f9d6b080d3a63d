import { describe, expect, it } from 'vitest';
import { OWASP_SCRYPT, PasswordHasher } from '../../src/auth/passwords.js';
import { loadConfig } from '../../src/config.js';

const PASSWORD = 'correct horse battery';

describe('PasswordHasher', () => {
  it("hashes with OWASP's scrypt parameters by default (N=2^17, r=8, p=1), as the production config asks", async () => {
    expect(loadConfig({ DATABASE_URL: 'memory://', JWT_SECRET: 'x'.repeat(32) }).config.passwords.scryptN).toBe(2 ** 17);
    expect(OWASP_SCRYPT).toEqual({ N: 131_072, r: 8, p: 1 });
    const hasher = new PasswordHasher();
    const hash = await hasher.hash(PASSWORD);
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await hasher.verify(PASSWORD, hash)).toEqual({ ok: true, rehash: false });
    expect(await hasher.verify('wrong password', hash)).toEqual({ ok: false, rehash: false });
  });

  it('verifies an old 2^14 hash with the 2^17 default and asks for a rehash; a wrong password asks for nothing', async () => {
    const old = await new PasswordHasher({ N: 2 ** 14, r: 8, p: 1 }).hash(PASSWORD);
    expect(old).toMatch(/^scrypt\$16384\$8\$1\$/);
    const current = new PasswordHasher();
    expect(await current.verify(PASSWORD, old)).toEqual({ ok: true, rehash: true });
    expect(await current.verify('wrong password', old)).toEqual({ ok: false, rehash: false });
  });

  it('treats the password as NFC, so both spellings of é match', async () => {
    const hasher = new PasswordHasher({ N: 2 ** 10, r: 8, p: 1 });
    const hash = await hasher.hash('caf\u00e9 au lait');
    expect((await hasher.verify('cafe\u0301 au lait', hash)).ok).toBe(true);
  });

  it('refuses stored hashes that are malformed or ask for absurd parameters, without running them', async () => {
    const hasher = new PasswordHasher({ N: 2 ** 10, r: 8, p: 1 });
    const good = await hasher.hash(PASSWORD);
    const [, , , , salt, key] = good.split('$');
    const stored = [
      '',
      'bcrypt$2b$10$abc',
      `scrypt$1000$8$1$${salt}$${key}`, // N not a power of two
      `scrypt$${2 ** 30}$8$1$${salt}$${key}`, // 128 GiB
      `scrypt$1024$64$1$${salt}$${key}`,
      `scrypt$1024$8$1$${salt}$`,
      `scrypt$1024$8$1$${salt}$${key}$extra`,
    ];
    for (const hash of stored) expect(await hasher.verify(PASSWORD, hash), hash).toEqual({ ok: false, rehash: false });
  });

  it('computes one decoy hash, with the current parameters', async () => {
    const hasher = new PasswordHasher({ N: 2 ** 11, r: 8, p: 1 });
    const decoy = await hasher.decoyHash();
    expect(decoy).toMatch(/^scrypt\$2048\$8\$1\$/);
    expect(await hasher.decoyHash()).toBe(decoy);
  });
});

describe('PasswordHasher rehash rule', () => {
  it('never asks to replace a stronger hash with a weaker one (instances of a rolling upgrade do not take turns)', async () => {
    const strong = await new PasswordHasher({ N: 2 ** 12, r: 8, p: 1 }).hash(PASSWORD);
    expect(await new PasswordHasher({ N: 2 ** 11, r: 8, p: 1 }).verify(PASSWORD, strong)).toEqual({ ok: true, rehash: false });
  });
});

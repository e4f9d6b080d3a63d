import { afterEach, describe, expect, it, vi } from 'vitest';
import { VerifiedTokenCache } from '../../src/auth/token-cache.js';
import { createUserCheck } from '../../src/features/users/user-check.js';
import type { UsersStore } from '../../src/features/users/users.store.js';

const accepted = (userId: string, expiresAt: number) => Object.freeze({ ok: true as const, userId, expiresAt, signedInAt: 0 });

describe('VerifiedTokenCache with a user check', () => {
  afterEach(() => vi.useRealTimers());

  it('asks whether the user exists when a token is first accepted, and again only once recheckMs has passed', async () => {
    vi.useFakeTimers({ now: 0 });
    let exists = true;
    const check = vi.fn(async () => exists);
    const cache = new VerifiedTokenCache(10, { exists: check, recheckMs: 1000 });
    expect(await cache.accept('t', accepted('u', 60_000))).toMatchObject({ ok: true, userId: 'u' });
    expect(check).toHaveBeenCalledTimes(1);
    vi.setSystemTime(999);
    expect(await cache.get('t')).toMatchObject({ ok: true });
    expect(check).toHaveBeenCalledTimes(1);
    exists = false;
    vi.setSystemTime(1000);
    expect(await cache.get('t')).toEqual({ ok: false, reason: 'TOKEN_INVALID' });
    expect(check).toHaveBeenCalledTimes(2);
    // Gone stays gone, without asking again; past exp the answer is "expired", as for any token.
    expect(await cache.get('t')).toEqual({ ok: false, reason: 'TOKEN_INVALID' });
    expect(check).toHaveBeenCalledTimes(2);
    vi.setSystemTime(60_000);
    expect(await cache.get('t')).toEqual({ ok: false, reason: 'TOKEN_EXPIRED' });
  });

  it('refuses a token whose user does not exist when first seen', async () => {
    const cache = new VerifiedTokenCache(10, { exists: async () => false, recheckMs: 1000 });
    expect(await cache.accept('t', accepted('u', Date.now() + 60_000))).toEqual({ ok: false, reason: 'TOKEN_INVALID' });
    expect(await cache.get('t')).toEqual({ ok: false, reason: 'TOKEN_INVALID' });
  });

  it('shares one look-up among the requests that find a token due', async () => {
    vi.useFakeTimers({ now: 0 });
    const check = vi.fn(async () => true);
    const cache = new VerifiedTokenCache(10, { exists: check, recheckMs: 1000 });
    await cache.accept('t', accepted('u', 60_000));
    vi.setSystemTime(1000);
    await Promise.all([cache.get('t'), cache.get('t'), cache.get('t')]);
    expect(check).toHaveBeenCalledTimes(2);
  });
});

describe('createUserCheck', () => {
  const store = (existingIds: UsersStore['existingIds']) => ({ existingIds }) as unknown as UsersStore;

  it('asks for the users of one turn in one query', async () => {
    const existingIds = vi.fn(async (ids: readonly string[]) => new Set(ids.filter((id) => id !== 'gone')));
    const check = createUserCheck(store(existingIds), 1000);
    expect(await Promise.all(['a', 'gone', 'b', 'a'].map((id) => check.exists(id)))).toEqual([true, false, true, true]);
    expect(existingIds).toHaveBeenCalledTimes(1);
  });

  it('takes a user to exist while the database cannot answer, and lets any other error through', async () => {
    const down = createUserCheck(
      store(async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      }),
      1000,
    );
    expect(await down.exists('u')).toBe(true);
    const broken = createUserCheck(
      store(async () => {
        throw new Error('syntax error');
      }),
      1000,
    );
    await expect(broken.exists('u')).rejects.toThrow('syntax error');
  });
});

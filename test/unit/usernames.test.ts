import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { USERNAME, usernameCandidates } from '../../src/features/users/usernames.js';

const tag = (subject: string) => createHash('sha256').update(subject).digest('hex');

describe('usernameCandidates (provisioned users)', () => {
  it('tries the claim first, then the claim tagged with a hash of the subject, then user-<hash>', () => {
    const t = tag('sub-1');
    expect(usernameCandidates('ana', 'sub-1')).toEqual([
      'ana',
      `ana-${t.slice(0, 6)}`,
      `ana-${t.slice(0, 12)}`,
      `user-${t.slice(0, 27)}`,
    ]);
  });

  it('makes any claim fit [A-Za-z0-9_.-]{3,32}: accents dropped, other runs one _, cut to 32', () => {
    expect(usernameCandidates('Zoë Smith', 's')[0]).toBe('Zoe_Smith');
    expect(usernameCandidates('ana@example.com', 's')[0]).toBe('ana_example.com');
    expect(usernameCandidates('  李小龍  ', 's')[0]).toMatch(/^user-[0-9a-f]{6}$/);
    expect(usernameCandidates('x'.repeat(40), 's')[0]).toBe('x'.repeat(32));
    expect(usernameCandidates('x'.repeat(40), 's')[1]).toHaveLength(32);
  });

  it('uses user-<hash> when the claim is missing, not a string, or shorter than 3', () => {
    const t = tag('sub-2');
    for (const claim of [undefined, null, 42, { name: 'ana' }, '', 'al']) {
      expect(usernameCandidates(claim, 'sub-2')[0], JSON.stringify(claim)).toBe(`${'user'}-${t.slice(0, 6)}`);
    }
  });

  it('gives the same list for the same subject every time, and a different one for another subject', () => {
    expect(usernameCandidates('ana', 'sub-3')).toEqual(usernameCandidates('ana', 'sub-3'));
    expect(usernameCandidates('ana', 'sub-3')[1]).not.toBe(usernameCandidates('ana', 'sub-4')[1]);
  });

  it('only ever proposes valid usernames', () => {
    for (const claim of ['Zoë Smith', 'a', '_.-_', 'x'.repeat(300), '🙂🙂🙂', 'ok-name', undefined]) {
      for (const name of usernameCandidates(claim, 'subject')) expect(name, `${String(claim)} -> ${name}`).toMatch(USERNAME);
    }
  });
});

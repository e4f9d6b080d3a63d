import { describe, expect, it } from 'vitest';
import { ChatRequestError } from '../../client/index.js';
import { describeAuthError, describe as describeError, NetworkError, waitText } from '../../web/src/api.js';
import { codePoints, dayKey, dayLabel, excerpt, findLinks, safeHref } from '../../web/src/text.js';

const refusal = (code: string, message = 'refused', extensions: Record<string, unknown> = {}) =>
  new ChatRequestError([{ message, extensions: { code, ...extensions } }]);

describe('the browser client’s links (findLinks)', () => {
  const hrefs = (text: string) => findLinks(text).map((l) => [l.text, l.href]);

  it('finds http and https URLs in running text, and nothing else', () => {
    expect(hrefs('see https://example.com/a?b=1#c and http://x.org')).toEqual([
      ['https://example.com/a?b=1#c', 'https://example.com/a?b=1#c'],
      ['http://x.org', 'http://x.org/'],
    ]);
    expect(hrefs('javascript:alert(1) data:text/html,<b>x</b> ftp://files.example.com mailto:a@b.c')).toEqual([]);
    expect(hrefs('no links here, just text: example.com')).toEqual([]);
  });

  it('leaves sentence punctuation out of a URL but keeps a closing parenthesis that belongs to it', () => {
    expect(
      hrefs('Read https://example.com/page. Then (https://example.com/x), and https://en.wikipedia.org/wiki/Foo_(bar)!'),
    ).toEqual([
      ['https://example.com/page', 'https://example.com/page'],
      ['https://example.com/x', 'https://example.com/x'],
      ['https://en.wikipedia.org/wiki/Foo_(bar)', 'https://en.wikipedia.org/wiki/Foo_(bar)'],
    ]);
  });

  it('stops a URL at quotes and angle brackets, so markup-looking text stays text', () => {
    expect(hrefs('<a href="https://evil.example/">x</a>')).toEqual([['https://evil.example/', 'https://evil.example/']]);
    expect(hrefs("'https://q.example/'")).toEqual([['https://q.example/', 'https://q.example/']]);
  });

  it('keeps the offsets of each link in the text', () => {
    const text = 'a https://b.example c';
    const [link] = findLinks(text);
    expect(text.slice(link!.start, link!.end)).toBe('https://b.example');
  });

  it('takes only http: and https: as an href', () => {
    expect(safeHref('https://ok.example')).toBe('https://ok.example/');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('not a url')).toBeNull();
  });
});

describe('the browser client’s dates and lengths', () => {
  it('labels today and yesterday by name, older days by date', () => {
    const now = new Date(2026, 4, 20, 12, 0);
    expect(dayLabel(new Date(2026, 4, 20, 0, 5).toISOString(), now)).toBe('Today');
    expect(dayLabel(new Date(2026, 4, 19, 23, 59).toISOString(), now)).toBe('Yesterday');
    expect(dayLabel(new Date(2026, 4, 1, 9).toISOString(), now)).toContain('2026');
    expect(dayKey(new Date(2026, 0, 2, 3).toISOString())).toBe('2026-01-02');
  });

  it('counts code points as the contract does, and cuts excerpts with an ellipsis', () => {
    expect(codePoints('😀😀')).toBe(2);
    expect(excerpt('one\n two   three', 80)).toBe('one two three');
    expect(excerpt('abcdefghij', 5)).toBe('abcd…');
  });
});

describe('the browser client’s error wording', () => {
  it('says what went wrong at sign-in and sign-up in plain words, from the contract’s codes', () => {
    expect(describeAuthError('login', refusal('UNAUTHENTICATED', 'Wrong username or password'))).toMatch(
      /^Wrong username or password\. New here\?/,
    );
    expect(describeAuthError('register', refusal('BAD_USER_INPUT', 'username is taken', { field: 'username' }))).toBe(
      'That username is taken. Choose another, or sign in if it is yours.',
    );
    expect(describeAuthError('register', refusal('BAD_USER_INPUT', 'username must be …', { field: 'username' }))).toContain(
      '3 to 32',
    );
    expect(describeAuthError('register', refusal('BAD_USER_INPUT', 'password must be 8-256', { field: 'password' }))).toContain(
      '8 to 256',
    );
    expect(describeAuthError('login', refusal('RATE_LIMITED', 'x', { retryAfter: 600 }))).toBe(
      'Too many sign-in attempts for now. Try again in 10 minutes.',
    );
    expect(describeAuthError('login', new NetworkError('down'))).toContain('cannot be reached');
  });

  it('turns other refusals into sentences, keeping the rule a FORBIDDEN or BAD_USER_INPUT names', () => {
    expect(describeError(refusal('FORBIDDEN', 'Only the owner can invite to a private room'))).toBe(
      'Only the owner can invite to a private room.',
    );
    expect(describeError(refusal('RATE_LIMITED', 'x', { retryAfter: 1 }))).toBe(
      'That was too many at once. Try again in 1 second.',
    );
    expect(describeError(refusal('SERVICE_UNAVAILABLE'))).toContain('busy or restarting');
    expect(describeError(refusal('INTERNAL_SERVER_ERROR', 'Unexpected error.'))).toBe(
      'Something went wrong on the server. Try again.',
    );
    expect(waitText(45)).toBe('45 seconds');
    expect(waitText(3600)).toBe('60 minutes');
  });
});

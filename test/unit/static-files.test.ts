import { describe, expect, it } from 'vitest';
import { chooseEncoding } from '../../src/transport/static-files.js';

describe('chooseEncoding (Accept-Encoding)', () => {
  const both = ['br', 'gzip'] as const;

  it('prefers brotli, then gzip, among what the client accepts and the file has', () => {
    expect(chooseEncoding('gzip, deflate, br', both)).toBe('br');
    expect(chooseEncoding('gzip, deflate', both)).toBe('gzip');
    expect(chooseEncoding('gzip, br', ['gzip'])).toBe('gzip');
    expect(chooseEncoding('br', ['gzip'])).toBeNull();
  });

  it('follows the weights: a higher q wins, q=0 refuses, * stands for the rest', () => {
    expect(chooseEncoding('br;q=0.5, gzip;q=0.9', both)).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip', both)).toBe('gzip');
    expect(chooseEncoding('*', both)).toBe('br');
    expect(chooseEncoding('*;q=0.1, br;q=0', both)).toBe('gzip');
    expect(chooseEncoding('BR ; q=1', both)).toBe('br');
  });

  it('sends the identity without Accept-Encoding, with identity only, or for a file without copies', () => {
    expect(chooseEncoding(undefined, both)).toBeNull();
    expect(chooseEncoding('', both)).toBeNull();
    expect(chooseEncoding('identity', both)).toBeNull();
    expect(chooseEncoding('br, gzip', [])).toBeNull();
  });
});

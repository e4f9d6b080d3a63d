import { describe, expect, it } from 'vitest';
import { isSingleEmoji } from '../../src/features/reactions/emoji.js';

describe('isSingleEmoji', () => {
  it.each([
    ['a pictograph', '👍'],
    ['a pictograph with a skin tone', '👍🏽'],
    ['a ZWJ family', '👨‍👩‍👧'],
    ['a ZWJ sequence with skin tones and U+FE0F', '🧑🏻‍❤️‍💋‍🧑🏼'],
    ['a ZWJ sequence with a variation selector before the joiner', '🏳️‍🌈'],
    ['a flag of two regional indicators', '🇫🇷'],
    ['a subdivision flag with tag characters', '🏴󠁧󠁢󠁥󠁮󠁧󠁿'],
    ['a keycap', '1️⃣'],
    ['a keycap without U+FE0F', '#\u20E3'],
    ['a heart with U+FE0F', '❤️'],
    ['a heart without U+FE0F', '❤'],
    ['a recent emoji (Unicode 15)', '🫨'],
  ])('accepts %s: %s', (_, text) => {
    expect(isSingleEmoji(text)).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['a letter', 'a'],
    ['a digit', '1'],
    ['a word', 'like'],
    ['two emoji', '👍👍'],
    ['two flags', '🇫🇷🇩🇪'],
    ['an emoji and text', '👍a'],
    ['text and an emoji', 'a👍'],
    ['an emoji and a space', '👍 '],
    ['a lone regional indicator', '🇫'],
    ['a lone skin tone', '🏽'],
    ['a lone joiner', '\u200D'],
    ['a lone variation selector', '\uFE0F'],
    ['a letter with a combining mark', 'e\u0301'],
    ['a letter with a keycap mark', 'a\u20E3'],
    ['a dangling joiner', '👍\u200D'],
    ['NUL', '\u0000'],
    ['a very long string', '👍'.repeat(10_000)],
    ['one grapheme of many joined emoji', Array(40).fill('👍').join('\u200D')],
  ])('refuses %s', (_, text) => {
    expect(isSingleEmoji(text)).toBe(false);
  });
});

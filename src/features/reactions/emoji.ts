/**
 * What counts as a reaction: exactly one emoji as a user sees it (one
 * grapheme cluster), in any of the forms UTS #51 builds emoji from. Checked
 * in two steps, because neither suffices alone: the segmenter tells one
 * grapheme from two ('👍👍', '👍a'), the pattern tells an emoji from text
 * ('a', '1', a lone regional indicator, a combining mark on a letter).
 */

/** The longest emoji in use (a couple with two skin tones, a subdivision flag) has 10 code points. */
const MAX_CODE_POINTS = 32;

/** A pictograph, optionally presented as emoji (U+FE0F) or with a skin tone, optionally followed by tag characters (subdivision flags such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿). */
const PICTOGRAPH = String.raw`\p{Extended_Pictographic}(?:\p{Emoji_Modifier}\uFE0F?|\uFE0F)?(?:[\u{E0020}-\u{E007E}]+\u{E007F})?`;
/** A flag: exactly two regional indicators (🇫🇷). */
const FLAG = String.raw`\p{Regional_Indicator}{2}`;
/** A keycap: digit, # or *, an optional U+FE0F, then U+20E3 (1️⃣). */
const KEYCAP = String.raw`[0-9#*]\uFE0F?\u20E3`;
const ELEMENT = `(?:${PICTOGRAPH}|${FLAG}|${KEYCAP})`;
/** Elements joined by ZERO WIDTH JOINER (👨‍👩‍👧, ❤️‍🔥, 🏳️‍🌈). */
const EMOJI = new RegExp(`^${ELEMENT}(?:\\u200D${ELEMENT})*$`, 'u');

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** True when `text` is exactly one emoji grapheme such as 👍, 👍🏽, 👨‍👩‍👧, 🇫🇷, 1️⃣ or ❤️. */
export function isSingleEmoji(text: string): boolean {
  // Cheap bounds first, so a long string is never segmented.
  if (text.length === 0 || text.length > MAX_CODE_POINTS * 2 || [...text].length > MAX_CODE_POINTS) return false;
  const segments = graphemes.segment(text)[Symbol.iterator]();
  const first = segments.next();
  if (first.done || !segments.next().done) return false;
  return EMOJI.test(text);
}

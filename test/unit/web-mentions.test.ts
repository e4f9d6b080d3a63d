import { describe, expect, it } from 'vitest';
import { insertMention, mentionCandidates, mentionedIds, mentionQueryAt } from '../../web/src/mentions.js';

const user = (username: string, online = false) => ({ id: `id-${username}`, username, online });

describe('the browser client’s @-mentions', () => {
  it('finds the @-word being typed at the caret, at the start or after a space only', () => {
    expect(mentionQueryAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQueryAt('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQueryAt('hi @bo there', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQueryAt('hi @bo there', 12)).toBeNull();
    expect(mentionQueryAt('mail me at a@b', 14)).toBeNull();
    expect(mentionQueryAt('line one\n@ca', 12)).toEqual({ start: 9, query: 'ca' });
  });

  it('puts @username and one space in place of the @-word, the caret after them', () => {
    expect(insertMention('hi @bo', 3, 6, 'bob')).toEqual({ text: 'hi @bob ', caret: 8 });
    expect(insertMention('hi @bo there', 3, 6, 'bob')).toEqual({ text: 'hi @bob there', caret: 8 });
  });

  it('sends the ids of picked members whose @username is still in the text, as a word of its own', () => {
    const picked = new Map([
      ['bob', 'id-bob'],
      ['carol.x', 'id-carol'],
    ]);
    expect(mentionedIds('@bob and @carol.x, look', picked)).toEqual(['id-bob', 'id-carol']);
    expect(mentionedIds('@bob.', picked)).toEqual(['id-bob']); // the end of a sentence
    expect(mentionedIds('@BOB hi', picked)).toEqual(['id-bob']);
    expect(mentionedIds('@bobby and @carol', picked)).toEqual([]); // someone else's name, or cut short
    expect(mentionedIds('bob, no at sign', picked)).toEqual([]);
  });

  it('offers the members whose name starts with what was typed, online first, never oneself', () => {
    const members = [user('bob'), user('bea', true), user('me', true), user('carl', true)];
    expect(mentionCandidates(members, 'B', 'id-me').map((u) => u.username)).toEqual(['bea', 'bob']);
    expect(mentionCandidates(members, '', 'id-me').map((u) => u.username)).toEqual(['bea', 'carl', 'bob']);
  });
});

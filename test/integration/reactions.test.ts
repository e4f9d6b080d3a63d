import { describe, expect, it } from 'vitest';
import { del, group, history, ok, react, refused, unreact } from '../support/messages.js';
import { MISSING_ID } from '../support/seed.js';
import { forEachBackend } from '../support/suite.js';

forEachBackend('Reactions', (s) => {
  describe('Mutation.addReaction and Mutation.removeReaction', () => {
    it('groups reactions by emoji with count and users, in the order of each emoji’s first reaction', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const sent = await s.seed.send(alice, room, 'react to me');
      expect((await ok(react(s.a, alice, sent.id, '👍'))).reactions).toEqual([group('👍', alice)]);
      expect((await ok(react(s.b, bob, sent.id, '❤️'))).reactions).toEqual([group('👍', alice), group('❤️', bob)]);
      await ok(react(s.a, carol, sent.id, '👍'));
      await ok(react(s.a, bob, sent.id, '👍'));
      const last = await ok(react(s.a, carol, sent.id, '👨‍👩‍👧'));
      const expected = [group('👍', alice, carol, bob), group('❤️', bob), group('👨‍👩‍👧', carol)];
      expect(last.reactions).toEqual(expected);
      expect((await history(s.b, bob, room))[0]!.reactions).toEqual(expected);
    });

    it('drops an emoji once its count reaches 0 and keeps the order of the others', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'hello');
      await ok(react(s.a, alice, sent.id, '🎉'));
      await ok(react(s.a, bob, sent.id, '🎉'));
      await ok(react(s.a, bob, sent.id, '👀'));
      expect((await ok(unreact(s.a, alice, sent.id, '🎉'))).reactions).toEqual([group('🎉', bob), group('👀', bob)]);
      expect((await ok(unreact(s.b, bob, sent.id, '🎉'))).reactions).toEqual([group('👀', bob)]);
      expect((await ok(unreact(s.a, bob, sent.id, '👀'))).reactions).toEqual([]);
      expect((await history(s.a, alice, room))[0]!.reactions).toEqual([]);
    });

    it('is idempotent: adding twice counts once, removing a reaction that is not there is no error', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'once');
      await ok(react(s.a, bob, sent.id, '👍'));
      expect((await ok(react(s.b, bob, sent.id, '👍'))).reactions).toEqual([group('👍', bob)]);
      expect((await ok(unreact(s.a, alice, sent.id, '👍'))).reactions).toEqual([group('👍', bob)]);
      expect((await ok(unreact(s.a, bob, sent.id, '❤️'))).reactions).toEqual([group('👍', bob)]);
      await ok(unreact(s.a, bob, sent.id, '👍'));
      expect((await ok(unreact(s.a, bob, sent.id, '👍'))).reactions).toEqual([]);
    });

    it('accepts one emoji grapheme of every kind: ZWJ sequences, flags, skin tones, keycaps, U+FE0F', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'all kinds');
      const kinds = ['👍', '👨‍👩‍👧', '🇫🇷', '👍🏽', '1️⃣', '❤️', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'];
      for (const emoji of kinds) await ok(react(s.a, alice, sent.id, emoji));
      expect((await history(s.a, alice, room))[0]!.reactions).toEqual(kinds.map((emoji) => group(emoji, alice)));
    });

    it('refuses anything but exactly one emoji with BAD_USER_INPUT, when adding and when removing', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'strict');
      for (const emoji of ['a', '👍👍', '', '👍a', 'ok 👍', '🇫', '1', ' ', '👍'.repeat(5000), 'x'.repeat(100_000)]) {
        await refused(react(s.a, alice, sent.id, emoji), 'BAD_USER_INPUT');
        await refused(unreact(s.a, alice, sent.id, emoji), 'BAD_USER_INPUT');
      }
      expect((await history(s.a, alice, room))[0]!.reactions).toEqual([]);
    });

    it('refuses a non-member with FORBIDDEN and an unknown message with NOT_FOUND', async () => {
      const { alice, dave, room } = await s.seed.roomOfThree();
      const sent = await s.seed.send(alice, room, 'members only');
      await refused(react(s.a, dave, sent.id, '👍'), 'FORBIDDEN');
      await refused(unreact(s.a, dave, sent.id, '👍'), 'FORBIDDEN');
      for (const id of [MISSING_ID, 'nope']) {
        await refused(react(s.a, alice, id, '👍'), 'NOT_FOUND');
        await refused(unreact(s.a, alice, id, '👍'), 'NOT_FOUND');
      }
      expect((await history(s.a, alice, room))[0]!.reactions).toEqual([]);
    });

    it('refuses reactions on a deleted message with BAD_USER_INPUT', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'gone');
      await ok(del(s.a, alice, sent.id));
      await refused(react(s.a, bob, sent.id, '👍'), 'BAD_USER_INPUT');
      await refused(unreact(s.a, bob, sent.id, '👍'), 'BAD_USER_INPUT');
    });
  });
});

import { describe, expect, it } from 'vitest';
import { gqlOk, sleep, Subscription, trackedClients } from '../support/client.js';
import { del, edit, group, history, ISO_UTC_MS, ok, react, refused, unreact, type Message } from '../support/messages.js';
import { ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MessageChanged { change message { id body editedAt deletedAt reactions { emoji count users { id } } } }
    ${ROOM_EVENTS_PROBE_FIELDS}
  }
}`;

forEachBackend('Message changes', (s) => {
  describe('Mutation.editMessage', () => {
    it('changes the body and sets editedAt, keeping id, seq and createdAt, also in history', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'first draft');
      const before = await gqlOk(
        s.a,
        `query($r: ID!) { messages(roomId: $r) { edges { node { createdAt } } } }`,
        { r: room.id },
        alice.token,
      );
      const edited = await ok<Message & { createdAt: string }>(edit(s.a, alice, sent.id, 'final words'));
      expect(edited).toEqual({
        id: sent.id,
        seq: 1,
        body: 'final words',
        editedAt: expect.stringMatching(ISO_UTC_MS),
        deletedAt: null,
        reactions: [],
        createdAt: before.messages.edges[0].node.createdAt,
      });
      expect(Date.parse(edited.editedAt!)).toBeGreaterThanOrEqual(Date.parse(edited.createdAt));
      const { createdAt: _, ...stored } = edited;
      expect(await history(s.b, alice, room)).toEqual([stored]);
    });

    it('applies the limits of sendMessage with BAD_USER_INPUT and leaves the body as it was', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'unchanged');
      for (const body of ['', ' \n\t ', '😀'.repeat(4001), 'x'.repeat(4001), 'nul\u0000inside']) {
        await refused(edit(s.a, alice, sent.id, body), 'BAD_USER_INPUT');
      }
      expect((await history(s.a, alice, room)).map((m) => [m.body, m.editedAt])).toEqual([['unchanged', null]]);
      const max = '😀'.repeat(4000);
      expect((await ok(edit(s.a, alice, sent.id, max))).body).toBe(max);
    });

    it("refuses someone else's message with FORBIDDEN, also for the room's OWNER", async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const bobs = await s.seed.send(bob, room, "bob's words");
      const alices = await s.seed.send(alice, room, "alice's words");
      await refused(edit(s.a, alice, bobs.id, 'owner rewrite'), 'FORBIDDEN');
      await refused(edit(s.a, carol, bobs.id, 'member rewrite'), 'FORBIDDEN');
      await refused(edit(s.a, bob, alices.id, 'member rewrite'), 'FORBIDDEN');
      expect((await history(s.a, alice, room)).map((m) => [m.body, m.editedAt])).toEqual([
        ["bob's words", null],
        ["alice's words", null],
      ]);
    });

    it('refuses a non-member with FORBIDDEN, the author too once they left the room', async () => {
      const { alice, bob, dave, room } = await s.seed.roomOfThree();
      const bobs = await s.seed.send(bob, room, 'said while a member');
      await refused(edit(s.a, dave, bobs.id, 'stranger'), 'FORBIDDEN');
      await s.seed.leave(bob, room);
      await refused(edit(s.a, bob, bobs.id, 'after leaving'), 'FORBIDDEN');
      expect((await history(s.a, alice, room)).map((m) => m.body)).toEqual(['said while a member']);
    });

    it('answers NOT_FOUND for an unknown id and for one that is not a uuid', async () => {
      const { alice } = await s.seed.roomWithTwoMembers();
      await refused(edit(s.a, alice, MISSING_ID, 'x'), 'NOT_FOUND');
      await refused(edit(s.a, alice, 'not-a-uuid', 'x'), 'NOT_FOUND');
    });

    it('refuses a deleted message with BAD_USER_INPUT', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'soon gone');
      await ok(del(s.a, alice, sent.id));
      await refused(edit(s.a, alice, sent.id, 'back from the dead'), 'BAD_USER_INPUT');
      expect((await history(s.a, alice, room)).map((m) => [m.body, m.editedAt])).toEqual([['', null]]);
    });

    it('refuses a request without a token with UNAUTHENTICATED', async () => {
      const { alice, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'mine');
      await refused(edit(s.a, null, sent.id, 'anonymous'), 'UNAUTHENTICATED');
    });
  });

  describe('Mutation.deleteMessage', () => {
    it("leaves the author's message as a tombstone in its place in history, its reactions removed", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const [one, two, three] = [
        await s.seed.send(alice, room, 'one'),
        await s.seed.send(bob, room, 'two'),
        await s.seed.send(alice, room, 'three'),
      ];
      await ok(react(s.a, alice, two.id, '👍'));
      await ok(react(s.a, bob, two.id, '❤️'));
      const deleted = await ok(del(s.a, bob, two.id));
      expect(deleted).toEqual({
        id: two.id,
        seq: 2,
        body: '',
        editedAt: null,
        deletedAt: expect.stringMatching(ISO_UTC_MS),
        reactions: [],
      });
      expect(await history(s.b, alice, room)).toEqual([
        { id: one.id, seq: 1, body: 'one', editedAt: null, deletedAt: null, reactions: [] },
        deleted,
        { id: three.id, seq: 3, body: 'three', editedAt: null, deletedAt: null, reactions: [] },
      ]);
    });

    it("lets the room's OWNER delete someone else's message", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const bobs = await s.seed.send(bob, room, 'moderated');
      const deleted = await ok(del(s.a, alice, bobs.id));
      expect([deleted.id, deleted.body, deleted.deletedAt]).toEqual([bobs.id, '', expect.stringMatching(ISO_UTC_MS)]);
      expect((await history(s.a, bob, room)).map((m) => [m.seq, m.body])).toEqual([[1, '']]);
    });

    it('refuses a member who is neither the author nor the OWNER with FORBIDDEN', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const alices = await s.seed.send(alice, room, "the owner's");
      const bobs = await s.seed.send(bob, room, "bob's");
      await refused(del(s.a, bob, alices.id), 'FORBIDDEN');
      await refused(del(s.a, carol, bobs.id), 'FORBIDDEN');
      expect((await history(s.a, alice, room)).map((m) => [m.body, m.deletedAt])).toEqual([
        ["the owner's", null],
        ["bob's", null],
      ]);
    });

    it('refuses a non-member with FORBIDDEN, the author too once they left the room', async () => {
      const { alice, bob, dave, room } = await s.seed.roomOfThree();
      const bobs = await s.seed.send(bob, room, 'still here');
      await refused(del(s.a, dave, bobs.id), 'FORBIDDEN');
      await s.seed.leave(bob, room);
      await refused(del(s.a, bob, bobs.id), 'FORBIDDEN');
      expect((await history(s.a, alice, room)).map((m) => [m.body, m.deletedAt])).toEqual([['still here', null]]);
    });

    it('answers NOT_FOUND for an unknown id and for one that is not a uuid', async () => {
      const { alice } = await s.seed.roomWithTwoMembers();
      await refused(del(s.a, alice, MISSING_ID), 'NOT_FOUND');
      await refused(del(s.a, alice, '42'), 'NOT_FOUND');
    });

    it('returns an already deleted message unchanged', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(bob, room, 'twice');
      const first = await ok(del(s.a, bob, sent.id));
      await sleep(5); // a later deletedAt would differ by a millisecond or more
      expect(await ok(del(s.b, bob, sent.id))).toEqual(first);
      expect(await ok(del(s.a, alice, sent.id))).toEqual(first);
    });
  });

  describe('Subscription.roomEvents: MessageChanged', () => {
    const connect = trackedClients();
    const client = (app: App, user: TestUser) => connect(app, user.token);
    /** `member`'s roomEvents on `app`, probed by their own typing (and edits of a probe message) through A, where the changes are made. */
    const watch = (app: App, member: TestUser, room: TestRoom) =>
      new Subscription(client(app, member), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, member, room));
    /** MessageChanged events only: presence and membership events share the stream. */
    const changes = (sub: Subscription) => sub.values.map((v) => v.roomEvents).filter((e) => e.__typename === 'MessageChanged');
    const nextChange = (sub: Subscription, count: number) =>
      sub.until(() => changes(sub).length >= count, 10_000, `${count} MessageChanged`);

    it('delivers EDITED, REACTIONS and DELETED, each once, to a member subscribed on the other instance', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'original');
      const sub = watch(s.b, bob, room);
      await sub.live(); // registered before anything changes

      const edited = await ok(edit(s.a, alice, sent.id, 'edited'));
      await nextChange(sub, 1);
      await ok(react(s.a, alice, sent.id, '👍'));
      await nextChange(sub, 2);
      await ok(react(s.a, alice, sent.id, '👍')); // a repeat: nothing to announce
      await ok(unreact(s.a, alice, sent.id, '🎉')); // nothing there: nothing to announce
      await ok(unreact(s.a, alice, sent.id, '👍'));
      await nextChange(sub, 3);
      const deleted = await ok(del(s.a, alice, sent.id));
      await nextChange(sub, 4);
      await ok(del(s.a, alice, sent.id)); // already a tombstone: nothing to announce
      await sub.flush(); // a later change has arrived: no announcement is still on its way

      const message = { id: sent.id, body: 'edited', editedAt: edited.editedAt, deletedAt: null };
      expect(changes(sub)).toEqual([
        { __typename: 'MessageChanged', change: 'EDITED', message: { ...message, reactions: [] } },
        { __typename: 'MessageChanged', change: 'REACTIONS', message: { ...message, reactions: [group('👍', alice)] } },
        { __typename: 'MessageChanged', change: 'REACTIONS', message: { ...message, reactions: [] } },
        {
          __typename: 'MessageChanged',
          change: 'DELETED',
          message: { ...message, body: '', deletedAt: deleted.deletedAt, reactions: [] },
        },
      ]);
      expect(deleted.deletedAt).toMatch(ISO_UTC_MS);
    });

    it("delivers the OWNER's deletion of someone else's message", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const bobs = await s.seed.send(bob, room, 'moderate me');
      const sub = watch(s.b, bob, room);
      await sub.live();
      const deleted = await ok(del(s.a, alice, bobs.id));
      await nextChange(sub, 1);
      expect(changes(sub)).toEqual([
        {
          __typename: 'MessageChanged',
          change: 'DELETED',
          message: { id: bobs.id, body: '', editedAt: null, deletedAt: deleted.deletedAt, reactions: [] },
        },
      ]);
    });

    it('refuses a non-member with FORBIDDEN at subscribe', async () => {
      const { alice, dave, room } = await s.seed.roomOfThree();
      const sent = await s.seed.send(alice, room, 'private matters');
      const sub = new Subscription(client(s.b, dave), ROOM_EVENTS, { r: room.id });
      await sub.settled();
      expect(sub.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      await ok(edit(s.a, alice, sent.id, 'still private'));
      // After its error the client takes nothing more for this subscription: what it got came before.
      expect(changes(sub)).toEqual([]);
    });

    it('delivers nothing more to a member after they left, and completes the stream', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sent = await s.seed.send(alice, room, 'v1');
      const sub = watch(s.b, bob, room);
      await sub.live();
      await ok(edit(s.a, alice, sent.id, 'v2'));
      await nextChange(sub, 1);
      await s.seed.leave(bob, room);
      await ok(edit(s.a, alice, sent.id, 'v3'));
      await ok(react(s.a, alice, sent.id, '👍'));
      await ok(del(s.a, alice, sent.id));
      await sub.settled(); // complete: the client takes nothing more for this subscription, so what it got came before
      expect(sub.completed).toBe(true);
      expect(changes(sub).map((e) => [e.change, e.message.body])).toEqual([['EDITED', 'v2']]);
    });
  });
});

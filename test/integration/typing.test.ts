import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, sleep, Subscription, trackedClients } from '../support/client.js';
import { ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MemberChanged { change roomId user { id } }
    ... on TypingChanged { roomId typing user { id } }
    ${ROOM_EVENTS_PROBE_FIELDS}
  }
}`;
const SET_TYPING = 'mutation($r: ID!, $t: Boolean!) { setTyping(roomId: $r, typing: $t) }';

type Event = { __typename: string; typing?: boolean; user?: { id: string } };
/** What the subscription got, its probes (the subscriber's own typing) left out. */
const events = (sub: Subscription) => sub.values.map((v) => v.roomEvents as Event);
const typingOf = (sub: Subscription) =>
  events(sub)
    .filter((e) => e.__typename === 'TypingChanged')
    .map((e) => e.typing);

forEachBackend('Typing', (s) => {
  const connect = trackedClients();
  const client = (app: App, user: TestUser) => connect(app, user.token);
  /**
   * `member`'s roomEvents on `app`, probed through A by their own typing (and
   * edits of a probe message): the typist under test is always someone else.
   */
  const watch = (app: App, member: TestUser, room: TestRoom) =>
    new Subscription(client(app, member), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, member, room));

  describe('Mutation.setTyping', () => {
    it('announces typing once, and its end, to members on the other instance', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = watch(s.b, bob, room);
      await sub.live();
      expect(await gqlOk(s.a, SET_TYPING, { r: room.id, t: true }, alice.token)).toEqual({ setTyping: true });
      await gqlOk(s.a, SET_TYPING, { r: room.id, t: true }, alice.token); // a repeat: no second event
      // Through the other instance too: typing state is shared through Redis (embedded mode is one process).
      if (s.name === 'services') await gqlOk(s.b, SET_TYPING, { r: room.id, t: true }, alice.token);
      await gqlOk(s.a, SET_TYPING, { r: room.id, t: false }, alice.token);
      await sub.until(() => events(sub).some((e) => e.typing === false));
      await sub.flush(); // a later event has arrived: no second announcement is still on its way
      const typing = events(sub).filter((e) => e.__typename === 'TypingChanged');
      expect(typing).toEqual([
        { __typename: 'TypingChanged', roomId: room.id, typing: true, user: { id: alice.id } },
        { __typename: 'TypingChanged', roomId: room.id, typing: false, user: { id: alice.id } },
      ]);
    });

    it('lapses without a repeat and sends typing false then', async () => {
      const quick = await s.backend.startApp({ typingTimeoutMs: 800 });
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = watch(s.b, bob, room);
      await sub.live();
      await gqlOk(quick, SET_TYPING, { r: room.id, t: true }, alice.token);
      await sleep(400); // half the lapse
      await gqlOk(quick, SET_TYPING, { r: room.id, t: true }, alice.token); // the repeat restarts the lapse
      await sleep(600); // past the first lapse, before the restarted one
      expect(typingOf(sub)).toEqual([true]);
      await sub.until(() => typingOf(sub).length >= 2, 3000, 'the lapse');
      expect(typingOf(sub)).toEqual([true, false]);
    });

    it("ends typing when the typist's socket closes", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = watch(s.b, bob, room);
      const alices = client(s.a, alice);
      const open = new Subscription(alices, ROOM_EVENTS, { r: room.id }); // keeps her socket open
      await sub.live();
      const typed = new Subscription(alices, SET_TYPING, { r: room.id, t: true }); // setTyping over the socket itself
      await typed.next(1);
      expect(typed.values[0]).toEqual({ setTyping: true });
      await sub.until(() => events(sub).some((e) => e.typing === true));
      await sub.flush(); // a later event has arrived: no typing false is on its way
      expect(typingOf(sub)).toEqual([true]); // still typing while the socket is open
      await alices.dispose();
      await sub.until(() => events(sub).some((e) => e.typing === false), 5000, 'typing false on close');
      expect(typingOf(sub)).toEqual([true, false]);
      open.dispose();
    });

    it('refuses a non-member with FORBIDDEN and an unknown room with NOT_FOUND', async () => {
      const { room } = await s.seed.roomWithTwoMembers();
      const stranger = await s.seed.user('stranger');
      expect(codes(await gql(s.a, SET_TYPING, { r: room.id, t: true }, stranger.token))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(s.a, SET_TYPING, { r: MISSING_ID, t: true }, stranger.token))).toEqual(['NOT_FOUND']);
      expect(codes(await gql(s.a, SET_TYPING, { r: room.id, t: true }))).toEqual(['UNAUTHENTICATED']);
    });
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { del, ok } from '../support/messages.js';
import { moderator, outcome } from '../support/moderation.js';
import { messageProbe, myEventsProbe } from '../support/probes.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

/**
 * Mentions as a client sees them: explicit member ids (never parsed from the
 * body) and @room, Mentioned on myEvents, Room.unreadMentionCount. The rules:
 * contract/chat.graphql, "Threads, mentions and pins".
 */

const MESSAGE = 'id seq body clientId threadRootId mentions { id } mentionRoom mentionsViewer';
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { ${MESSAGE} } }`;
const EDIT = `mutation($i: EditMessageInput!) { editMessage(input: $i) { ${MESSAGE} } }`;
const HISTORY = `query($r: ID!) { messages(roomId: $r) { edges { node { ${MESSAGE} } } } }`;
const MENTION_COUNT = 'query($r: ID!) { room(id: $r) { unreadMentionCount } }';
const MARK_READ = 'mutation($r: ID!, $s: Int!) { markRead(roomId: $r, seq: $s) { id } }';
const MARK_THREAD_READ = 'mutation($t: ID!, $s: Int!) { markThreadRead(threadRootId: $t, seq: $s) { unreadCount } }';
const BLOCK = 'mutation($u: ID!) { blockUser(userId: $u) }';
const MY_EVENTS = `subscription {
  myEvents {
    __typename
    ... on Mentioned { message { id body author { id } mentionsViewer } }
    ... on NewMessage { message { roomId } }
    ... on RoomAdded { room { id } }
  }
}`;

interface Sent {
  id: string;
  seq: number;
  body: string;
  clientId: string | null;
  threadRootId: string | null;
  mentions: Array<{ id: string }>;
  mentionRoom: boolean;
  mentionsViewer: boolean;
}

const ids = (...users: TestUser[]) => users.map((u) => ({ id: u.id }));

forEachBackend('Mentions', (s) => {
  const connect = trackedClients();

  const sendRaw = (author: TestUser, room: TestRoom, body: string, extra: Record<string, unknown> = {}, app = s.a) =>
    gql(app, SEND, { i: { roomId: room.id, body, ...extra } }, author.token);
  const send = async (author: TestUser, room: TestRoom, body: string, extra: Record<string, unknown> = {}, app = s.a) =>
    (await gqlOk(app, SEND, { i: { roomId: room.id, body, ...extra } }, author.token)).sendMessage as Sent;
  const mention = (author: TestUser, room: TestRoom, body: string, who: TestUser[], extra: Record<string, unknown> = {}) =>
    send(author, room, body, { mentions: who.map((u) => u.id), ...extra });
  const editRaw = (author: TestUser, id: string, body: string, mentions?: string[], app = s.a) =>
    gql(app, EDIT, { i: { id, body, ...(mentions ? { mentions } : {}) } }, author.token);
  const history = async (viewer: TestUser, room: TestRoom, app = s.a) =>
    ((await gqlOk(app, HISTORY, { r: room.id }, viewer.token)).messages.edges as Array<{ node: Sent }>).map((e) => e.node);
  const mentionCount = async (viewer: TestUser, room: TestRoom, app = s.a) =>
    (await gqlOk(app, MENTION_COUNT, { r: room.id }, viewer.token)).room.unreadMentionCount as number;
  const block = (by: TestUser, who: TestUser) => gqlOk(s.a, BLOCK, { u: who.id }, by.token);

  /** `viewer`'s myEvents on `app`, probed by rooms they create through A. */
  const myEventsOf = (app: App, viewer: TestUser) =>
    new Subscription(connect(app, viewer.token), MY_EVENTS, {}, myEventsProbe(s.a, viewer));
  type MentionedEvent = { message: { id: string; body: string; author: { id: string }; mentionsViewer: boolean } };
  const mentioned = (sub: Subscription): MentionedEvent[] =>
    sub.values.map((v) => v.myEvents).filter((e) => e.__typename === 'Mentioned');
  const mentionedIds = (sub: Subscription) => mentioned(sub).map((e) => e.message.id);

  describe('Mutation.sendMessage with mentions', () => {
    it('keeps each mentioned member once, in Message.mentions, mentionRoom and mentionsViewer, and never reads the body', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const named = await mention(alice, room, 'hello you two', [bob, bob, carol, bob]);
      expect(named).toMatchObject({ mentions: ids(bob, carol), mentionRoom: false, mentionsViewer: false });
      const spelled = await send(alice, room, `@${bob.username} and @${carol.username}, only by name`);
      expect(spelled).toMatchObject({ mentions: [], mentionRoom: false });
      const everyone = await send(alice, room, 'everyone', { mentionRoom: true });
      expect(everyone).toMatchObject({ mentions: [], mentionRoom: true, mentionsViewer: false });

      const seen = async (viewer: TestUser) =>
        (await history(viewer, room, s.b)).map((m) => [m.mentions.map((u) => u.id), m.mentionRoom, m.mentionsViewer]);
      expect(await seen(bob)).toEqual([
        [[bob.id, carol.id], false, true],
        [[], false, false],
        [[], true, true],
      ]);
      expect(await seen(alice)).toEqual([
        [[bob.id, carol.id], false, false],
        [[], false, false],
        [[], true, false],
      ]);
      // Each message counts once, however often it names the viewer.
      expect(await mentionCount(bob, room, s.b)).toBe(2);
      expect(await mentionCount(alice, room, s.b)).toBe(0);
    });

    it('refuses an id that is not a member of the room with BAD_USER_INPUT and stores nothing', async () => {
      const { alice, bob, dave, room } = await s.seed.roomOfThree();
      const bobs = myEventsOf(s.b, bob);
      await bobs.live();
      for (const outsider of [dave.id, MISSING_ID, 'not-a-user-id']) {
        const result = await sendRaw(alice, room, 'hello', { mentions: [bob.id, outsider] });
        expect([codes(result), result.data ?? null]).toEqual([['BAD_USER_INPUT'], null]);
      }
      // An edit is held to the same rule.
      const plain = await send(alice, room, 'plain');
      expect(codes(await editRaw(alice, plain.id, 'now naming dave', [dave.id]))).toEqual(['BAD_USER_INPUT']);
      await bobs.flush();
      expect(await history(alice, room)).toEqual([{ ...plain }]);
      expect(plain.seq).toBe(1); // no seq was taken by the refusals
      expect(mentioned(bobs)).toEqual([]);
      expect(await mentionCount(bob, room)).toBe(0);
    });

    it('refuses a send by a non-member with FORBIDDEN, whoever it mentions', async () => {
      const { bob, dave, room } = await s.seed.roomOfThree();
      expect(codes(await sendRaw(dave, room, 'let me in', { mentions: [bob.id] }))).toEqual(['FORBIDDEN']);
      expect(codes(await sendRaw(dave, room, 'let me in', { mentionRoom: true }))).toEqual(['FORBIDDEN']);
    });
  });

  describe('in a room of more than 50 members', () => {
    let crowd: TestUser[] = [];
    beforeAll(async () => {
      crowd = await s.seed.users(...Array.from({ length: 51 }, (_, i) => `member${i}`));
    });
    /** A room of `owner` that the first `count` of the crowd joined. */
    const roomOf = async (owner: TestUser, count: number) => {
      const room = await s.seed.room(owner);
      await Promise.all(crowd.slice(0, count).map((u) => s.seed.join(u, room)));
      return room;
    };

    it('refuses more than 50 distinct members with BAD_USER_INPUT', async () => {
      const alice = await s.seed.user('alice');
      const room = await roomOf(alice, 51);
      const tooMany = await sendRaw(alice, room, 'all of you', { mentions: crowd.map((u) => u.id) });
      expect([codes(tooMany), tooMany.data ?? null]).toEqual([['BAD_USER_INPUT'], null]);
      // 50 distinct, one of them twice: 50.
      const fifty = crowd.slice(0, 50);
      const sent = await send(alice, room, 'fifty of you', { mentions: [...fifty.map((u) => u.id), fifty[0]!.id] });
      expect(sent.mentions).toEqual(ids(...fifty));
      expect(sent.seq).toBe(1);
    });

    it('mentionRoom in a room of 51 members by a MEMBER is FORBIDDEN with MENTION_NOT_ALLOWED and stores nothing', async () => {
      const owner = await s.seed.user('owner');
      const room = await roomOf(owner, 49); // 50 members
      const [member, reader, mod] = [crowd[0]!, crowd[1]!, crowd[2]!];
      // In a room of 50, a MEMBER may.
      const allowed = await send(member, room, '@room of fifty', { mentionRoom: true, clientId: 'fifty' });
      expect(allowed).toMatchObject({ seq: 1, mentionRoom: true });
      await s.seed.join(crowd[49]!, room); // 51 members
      const readers = myEventsOf(s.b, reader);
      await readers.live();
      const refusedSend = await sendRaw(member, room, '@room of fifty-one', { mentionRoom: true });
      expect(outcome(refusedSend)).toBe('FORBIDDEN MENTION_NOT_ALLOWED');
      expect(refusedSend.data ?? null).toBeNull();
      // Never a silent drop: not stored as a message without its mention either.
      expect((await history(owner, room)).map((m) => m.body)).toEqual(['@room of fifty']);
      expect(await mentionCount(reader, room)).toBe(1);
      // A repeat of the send made while the room had 50 is answered with it, not refused.
      expect(await send(member, room, '@room of fifty', { mentionRoom: true, clientId: 'fifty' }, s.b)).toEqual(allowed);
      // A MODERATOR may.
      const promoted = await moderator(s.a).setRole(owner, room, mod, 'MODERATOR');
      expect(outcome(promoted)).toBe('ok');
      const byModerator = await send(mod, room, '@room by a moderator', { mentionRoom: true }, s.b);
      expect(byModerator).toMatchObject({ seq: 2, mentionRoom: true });
      await readers.until(() => mentioned(readers).length >= 1);
      await readers.flush();
      expect(mentionedIds(readers)).toEqual([byModerator.id]);
      expect(await mentionCount(reader, room)).toBe(2);
      // The MEMBER may still mention members by id.
      expect((await send(member, room, 'just you', { mentions: [reader.id] })).seq).toBe(3);
    });
  });

  describe('Message.mentionsViewer on Subscription.messageAdded', () => {
    it("is each subscriber's own", async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      // One document, one instance: renderings are shared wherever nothing depends on who looks.
      const watch = (member: TestUser) =>
        new Subscription(
          connect(s.b, member.token),
          'subscription($r: ID!) { messageAdded(roomId: $r) { id mentionsViewer } }',
          { r: room.id },
          messageProbe(s.a, member, room),
        );
      const subs = [watch(alice), watch(bob), watch(carol)];
      for (const sub of subs) await sub.live();
      const named = await mention(bob, room, 'carol only', [carol]);
      const everyone = await send(bob, room, 'everyone', { mentionRoom: true });
      await Promise.all(subs.map((sub) => sub.until(() => sub.values.some((v) => v.messageAdded.id === everyone.id))));
      const seen = (sub: Subscription) =>
        sub.values.map((v) => v.messageAdded).filter((m) => m.id === named.id || m.id === everyone.id);
      const [alices, bobs, carols] = subs.map(seen);
      expect(alices).toEqual([
        { id: named.id, mentionsViewer: false },
        { id: everyone.id, mentionsViewer: true },
      ]);
      expect(bobs).toEqual([
        { id: named.id, mentionsViewer: false },
        { id: everyone.id, mentionsViewer: false },
      ]);
      expect(carols).toEqual([
        { id: named.id, mentionsViewer: true },
        { id: everyone.id, mentionsViewer: true },
      ]);
    });
  });

  describe('Mentioned on Subscription.myEvents', () => {
    it('tells each mentioned member on the other instance, once, but neither the author nor a member who blocked the author', async () => {
      const { alice, bob, carol, dave, room } = await s.seed.roomOfThree();
      await s.seed.invite(alice, room, dave);
      await block(dave, bob);
      const [alices, bobs, carols, daves] = [
        myEventsOf(s.b, alice),
        myEventsOf(s.b, bob),
        myEventsOf(s.b, carol),
        myEventsOf(s.b, dave),
      ];
      await Promise.all([alices, bobs, carols, daves].map((sub) => sub.live()));
      const named = await mention(bob, room, 'named', [alice, carol, alice, dave, bob]);
      const everyone = await send(bob, room, 'everyone', { mentionRoom: true });
      // Each recipient's events of one message are published together: once alice and carol have theirs,
      // the flush of bob's and dave's streams comes after whatever was published to them.
      await alices.until(() => mentioned(alices).length >= 2);
      await carols.until(() => mentioned(carols).length >= 2);
      await Promise.all([alices, bobs, carols, daves].map((sub) => sub.flush()));
      expect(mentioned(alices)).toEqual([
        { __typename: 'Mentioned', message: { id: named.id, body: 'named', author: { id: bob.id }, mentionsViewer: true } },
        { __typename: 'Mentioned', message: { id: everyone.id, body: 'everyone', author: { id: bob.id }, mentionsViewer: true } },
      ]);
      expect(mentionedIds(carols)).toEqual([named.id, everyone.id]);
      expect(mentioned(bobs)).toEqual([]);
      expect(mentioned(daves)).toEqual([]);
      // dave still gets the messages themselves: a block in a GROUP room silences mentions, not messages.
      expect(
        daves.values.filter((v) => v.myEvents.__typename === 'NewMessage' && v.myEvents.message.roomId === room.id),
      ).toHaveLength(2);
    });

    it('an edit adding a mention notifies only the added member', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const [alices, bobs, carols] = [myEventsOf(s.b, alice), myEventsOf(s.b, bob), myEventsOf(s.b, carol)];
      await Promise.all([alices, bobs, carols].map((sub) => sub.live()));
      const sent = await mention(bob, room, 'hi alice', [alice]);
      await alices.until(() => mentioned(alices).length >= 1);
      // A new body alone changes no mention.
      await ok(editRaw(bob, sent.id, 'hi alice!'));
      const edited = await ok<Sent>(editRaw(bob, sent.id, 'hi alice and carol', [alice.id, carol.id, bob.id]));
      expect(edited.mentions).toEqual(ids(alice, carol, bob));
      await carols.until(() => mentioned(carols).length >= 1);
      await Promise.all([alices, bobs, carols].map((sub) => sub.flush()));
      expect(mentioned(carols)).toEqual([
        {
          __typename: 'Mentioned',
          message: { id: sent.id, body: 'hi alice and carol', author: { id: bob.id }, mentionsViewer: true },
        },
      ]);
      expect(mentionedIds(alices)).toEqual([sent.id]);
      expect(mentioned(bobs)).toEqual([]);
      // Dropping a mention tells nobody and takes it out of the dropped member's count.
      expect(await mentionCount(alice, room)).toBe(1);
      const dropped = await ok<Sent>(editRaw(bob, sent.id, 'hi carol', [carol.id]));
      expect(dropped.mentions).toEqual(ids(carol));
      expect(await mentionCount(alice, room, s.b)).toBe(0);
      expect(await mentionCount(carol, room, s.b)).toBe(1);
    });

    it('answers a clientId repeat of a message with mentions with the same message and announces nothing twice', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const alices = myEventsOf(s.b, alice);
      await alices.live();
      const first = await mention(bob, room, 'once', [alice], { clientId: 'm-1' });
      const again = await send(bob, room, 'once', { mentions: [alice.id], clientId: 'm-1' }, s.b);
      expect(again).toEqual(first);
      // A later mention, then the flush: a second Mentioned of the repeat would have been published before them.
      const later = await mention(bob, room, 'later', [alice]);
      await alices.until(() => mentionedIds(alices).includes(later.id));
      await alices.flush();
      expect(mentionedIds(alices)).toEqual([first.id, later.id]);
      expect((await history(alice, room)).map((m) => m.body)).toEqual(['once', 'later']);
      expect(await mentionCount(alice, room)).toBe(2);
    });
  });

  describe('a clientId repeat', () => {
    it('is answered with the stored message even once a mentioned member left', async () => {
      const { bob, carol, room } = await s.seed.roomOfThree();
      const stored = await mention(bob, room, 'carol?', [carol], { clientId: 'ask-carol' });
      await s.seed.leave(carol, room);
      // The first response was lost; the client sends again: the message was stored, so it is answered.
      const again = await sendRaw(bob, room, 'carol?', { mentions: [carol.id], clientId: 'ask-carol' }, s.b);
      expect(again).toEqual({ data: { sendMessage: stored } });
      // A new message naming her is refused.
      expect(codes(await sendRaw(bob, room, 'carol?', { mentions: [carol.id], clientId: 'ask-carol-2' }))).toEqual([
        'BAD_USER_INPUT',
      ]);
    });
  });

  describe('Room.unreadMentionCount', () => {
    it('unreadMentionCount ignores a blocked author and a deleted message', async () => {
      const { alice, bob, carol, dave, room } = await s.seed.roomOfThree();
      await s.seed.invite(alice, room, dave);
      await block(alice, bob);
      await mention(bob, room, 'from the blocked', [alice]);
      await send(bob, room, '@room from the blocked', { mentionRoom: true });
      const kept = await mention(carol, room, 'from carol', [alice]);
      const gone = await mention(carol, room, 'soon deleted', [alice]);
      const goneToo = await send(carol, room, '@room soon deleted', { mentionRoom: true });
      expect(await mentionCount(alice, room)).toBe(3);
      expect(await mentionCount(dave, room)).toBe(2);
      await ok(del(s.a, carol, gone.id));
      await ok(del(s.a, carol, goneToo.id));
      expect(await mentionCount(alice, room, s.b)).toBe(1);
      // The block is alice's own: dave counts bob's @room (and no longer carol's deleted one).
      expect(await mentionCount(dave, room, s.b)).toBe(1);
      await gqlOk(s.a, MARK_READ, { r: room.id, s: kept.seq }, alice.token);
      expect(await mentionCount(alice, room)).toBe(0);
    });

    it('counts unread mentions in the timeline by the room read position and in followed threads by the thread read position', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root'); // alice follows from its first reply on
      await mention(bob, room, 'in the thread', [alice], { threadRootId: root.id });
      const roomWide = await send(bob, room, '@room in the thread', { threadRootId: root.id, mentionRoom: true });
      expect(await mentionCount(alice, room)).toBe(2);
      // carol does not follow the thread: a reply's @room is not hers to count.
      expect(await mentionCount(carol, room)).toBe(0);
      // The room's read position does not read the thread.
      await gqlOk(s.a, MARK_READ, { r: room.id, s: roomWide.seq }, alice.token);
      expect(await mentionCount(alice, room)).toBe(2);
      expect((await gqlOk(s.a, MARK_THREAD_READ, { t: root.id, s: roomWide.seq }, alice.token)).markThreadRead.unreadCount).toBe(
        0,
      );
      expect(await mentionCount(alice, room)).toBe(0);
      // The timeline, and a reply shown in the room, by the room's position.
      await mention(bob, room, 'in the timeline', [alice]);
      const shown = await mention(bob, room, 'shown in the room', [alice], { threadRootId: root.id, showInRoom: true });
      expect(await mentionCount(alice, room, s.b)).toBe(2);
      await gqlOk(s.a, MARK_READ, { r: room.id, s: shown.seq }, alice.token);
      expect(await mentionCount(alice, room, s.b)).toBe(0);
      // A thread alice no longer follows does not count; carol follows it once mentioned in it.
      await gqlOk(
        s.a,
        'mutation($t: ID!) { unsubscribeThread(threadRootId: $t) { viewerSubscribed } }',
        { t: root.id },
        alice.token,
      );
      await mention(bob, room, 'carol, have a look', [carol], { threadRootId: root.id });
      await send(bob, room, '@room once more', { threadRootId: root.id, mentionRoom: true });
      expect(await mentionCount(alice, room)).toBe(0);
      // carol follows from the reply that named her, with nothing of the thread read: the earlier @room counts too.
      expect(await mentionCount(carol, room)).toBe(3);
    });
  });
});

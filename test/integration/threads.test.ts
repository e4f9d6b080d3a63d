import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, sleep, Subscription, trackedClients } from '../support/client.js';
import { del, ok } from '../support/messages.js';
import { messageProbe, myEventsProbe, ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

/**
 * Threads as a client sees them: replies are messages of the room (its next
 * seq) told apart by threadRootId; the thread's summary on its root; who
 * follows a thread and what they are told; the timeline view. The rules:
 * contract/chat.graphql, "Threads, mentions and pins".
 */

const MESSAGE = 'id seq body cursor createdAt threadRootId showInRoom';
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { ${MESSAGE} clientId } }`;
const THREAD = 'root { id } replyCount lastReplyAt participants { id } viewerSubscribed unreadCount';
const PAGE_INFO = 'pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
const MESSAGES = `query($r: ID!, $first: Int, $after: String, $last: Int, $before: String, $view: MessageView) {
  messages(roomId: $r, first: $first, after: $after, last: $last, before: $before, view: $view) {
    edges { cursor node { ${MESSAGE} } } ${PAGE_INFO}
  }
}`;
const ROOTS = `query($r: ID!) { messages(roomId: $r) { edges { node { id body deletedAt thread { ${THREAD} } } } } }`;
const THREAD_MESSAGES = `query($t: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  threadMessages(threadRootId: $t, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { ${MESSAGE} } } ${PAGE_INFO}
  }
}`;
const THREADS = `query($r: ID!, $first: Int, $after: String) {
  threads(roomId: $r, first: $first, after: $after) { edges { cursor node { ${THREAD} } } ${PAGE_INFO} }
}`;
const MY_THREADS = `query($first: Int, $after: String, $unread: Boolean) {
  myThreads(first: $first, after: $after, unreadOnly: $unread) { edges { cursor node { ${THREAD} } } ${PAGE_INFO} }
}`;
const SUBSCRIBE = `mutation($t: ID!) { subscribeThread(threadRootId: $t) { ${THREAD} } }`;
const UNSUBSCRIBE = `mutation($t: ID!) { unsubscribeThread(threadRootId: $t) { ${THREAD} } }`;
const MARK_THREAD_READ = `mutation($t: ID!, $s: Int!) { markThreadRead(threadRootId: $t, seq: $s) { ${THREAD} } }`;
const MARK_READ = 'mutation($r: ID!, $s: Int!) { markRead(roomId: $r, seq: $s) { unreadCount } }';
const UNREAD = 'query($r: ID!) { room(id: $r) { unreadCount lastReadSeq } }';
const MESSAGE_ADDED = `subscription($r: ID!, $after: String) { messageAdded(roomId: $r, after: $after) { ${MESSAGE} } }`;
const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MessageChanged { change message { id deletedAt thread { replyCount } } }
    ${ROOM_EVENTS_PROBE_FIELDS}
  }
}`;
const THREAD_CHANGES = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MessageChanged { change message { id thread { replyCount viewerSubscribed unreadCount } } }
    ${ROOM_EVENTS_PROBE_FIELDS}
  }
}`;
const MY_EVENTS = `subscription {
  myEvents {
    __typename
    ... on ThreadReply { message { id threadRootId author { id } } thread { root { id } replyCount } }
    ... on NewMessage { message { roomId } }
    ... on RoomAdded { room { id } }
  }
}`;

interface Sent {
  id: string;
  seq: number;
  body: string;
  cursor: string;
  createdAt: string;
  threadRootId: string | null;
  showInRoom: boolean;
  clientId?: string | null;
}
interface Thread {
  root: { id: string };
  replyCount: number;
  lastReplyAt: string | null;
  participants: Array<{ id: string }>;
  viewerSubscribed: boolean;
  unreadCount: number;
}
interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const bodiesOf = (page: Page<Sent>) => page.edges.map((e) => e.node.body);
const rootIdsOf = (page: Page<Thread>) => page.edges.map((e) => e.node.root.id);
const flags = (page: Page<unknown>) => [page.pageInfo.hasPreviousPage, page.pageInfo.hasNextPage];

forEachBackend('Threads', (s) => {
  const connect = trackedClients();

  const send = async (author: TestUser, room: TestRoom, body: string, extra: Record<string, unknown> = {}, app = s.a) =>
    (await gqlOk(app, SEND, { i: { roomId: room.id, body, ...extra } }, author.token)).sendMessage as Sent;
  const reply = (author: TestUser, room: TestRoom, root: { id: string }, body: string, extra: Record<string, unknown> = {}) =>
    send(author, room, body, { threadRootId: root.id, ...extra });
  const sendRaw = (author: TestUser, room: TestRoom, body: string, extra: Record<string, unknown> = {}, app = s.a) =>
    gql(app, SEND, { i: { roomId: room.id, body, ...extra } }, author.token);

  const messages = async (viewer: TestUser, room: TestRoom, args: Record<string, unknown> = {}, app = s.a) =>
    (await gqlOk(app, MESSAGES, { r: room.id, ...args }, viewer.token)).messages as Page<Sent>;
  const threadMessages = async (viewer: TestUser, root: { id: string }, args: Record<string, unknown> = {}, app = s.a) =>
    (await gqlOk(app, THREAD_MESSAGES, { t: root.id, ...args }, viewer.token)).threadMessages as Page<Sent>;
  /** Message.thread of `root` as `viewer` reads it in the room's history. */
  const threadOf = async (viewer: TestUser, room: TestRoom, root: { id: string }, app = s.a) => {
    const edges = (await gqlOk(app, ROOTS, { r: room.id }, viewer.token)).messages.edges as Array<{
      node: { id: string; body: string; deletedAt: string | null; thread: Thread | null };
    }>;
    const node = edges.find((e) => e.node.id === root.id)?.node;
    if (!node) throw new Error(`message ${root.id} is not in the room's newest 50`);
    return node;
  };
  const threads = async (viewer: TestUser, room: TestRoom, args: Record<string, unknown> = {}, app = s.a) =>
    (await gqlOk(app, THREADS, { r: room.id, ...args }, viewer.token)).threads as Page<Thread>;
  const myThreads = async (viewer: TestUser, args: Record<string, unknown> = {}, app = s.a) =>
    (await gqlOk(app, MY_THREADS, args, viewer.token)).myThreads as Page<Thread>;
  const markThreadRead = async (viewer: TestUser, root: { id: string }, seq: number, app = s.a) =>
    (await gqlOk(app, MARK_THREAD_READ, { t: root.id, s: seq }, viewer.token)).markThreadRead as Thread;
  const unreadOf = async (viewer: TestUser, room: TestRoom, app = s.a) =>
    (await gqlOk(app, UNREAD, { r: room.id }, viewer.token)).room as { unreadCount: number; lastReadSeq: number };

  /** `viewer`'s myEvents on `app`, probed by rooms they create through A. */
  const myEventsOf = (app: App, viewer: TestUser) =>
    new Subscription(connect(app, viewer.token), MY_EVENTS, {}, myEventsProbe(s.a, viewer));
  type ThreadReplyEvent = {
    message: { id: string; threadRootId: string; author: { id: string } };
    thread: { root: { id: string }; replyCount: number };
  };
  const threadReplies = (sub: Subscription): ThreadReplyEvent[] =>
    sub.values.map((v) => v.myEvents).filter((e) => e.__typename === 'ThreadReply');
  const threadReplyIds = (sub: Subscription) => threadReplies(sub).map((e) => e.message.id);

  type Change = { change: string; message: { id: string; deletedAt: string | null; thread: { replyCount: number } | null } };
  const changes = (sub: Subscription): Change[] =>
    sub.values.map((v) => v.roomEvents).filter((e) => e.__typename === 'MessageChanged' && e.change !== 'EDITED');

  describe('Mutation.sendMessage with threadRootId', () => {
    it('a thread reply resumes gaplessly with after like any message', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const root = await send(alice, room, 'root'); // seq 1
      await reply(alice, room, root, 'reply 2');
      await send(alice, room, 'timeline 3');
      // Bob resumes on B from the root while alice keeps posting on A, replies and timeline messages mixed.
      const first = new Subscription(connect(s.b, bob.token), MESSAGE_ADDED, { r: room.id, after: root.cursor });
      await reply(alice, room, root, 'reply 4');
      await reply(alice, room, root, 'shown 5', { showInRoom: true });
      await send(alice, room, 'timeline 6');
      await first.next(5);
      const cut = first.values[2].messageAdded as Sent; // seq 4
      first.dispose();
      // Missed while away.
      await reply(alice, room, root, 'reply 7');
      await send(alice, room, 'timeline 8');
      await reply(alice, room, root, 'reply 9');
      const second = new Subscription(
        connect(s.b, bob.token),
        MESSAGE_ADDED,
        { r: room.id, after: cut.cursor },
        messageProbe(s.a, alice, room),
      );
      await second.next(5);
      await reply(alice, room, root, 'reply 10'); // live
      await second.next(6);
      await second.flush(); // a later message has arrived: nothing is still on its way
      const seen = (sub: Subscription) =>
        sub.values.map((v) => {
          const m = v.messageAdded as Sent;
          return [m.seq, m.body, m.threadRootId, m.showInRoom];
        });
      expect(seen(first)).toEqual([
        [2, 'reply 2', root.id, false],
        [3, 'timeline 3', null, false],
        [4, 'reply 4', root.id, false],
        [5, 'shown 5', root.id, true],
        [6, 'timeline 6', null, false],
      ]);
      expect(seen(second)).toEqual([
        [5, 'shown 5', root.id, true],
        [6, 'timeline 6', null, false],
        [7, 'reply 7', root.id, false],
        [8, 'timeline 8', null, false],
        [9, 'reply 9', root.id, false],
        [10, 'reply 10', root.id, false],
      ]);
    });

    it('refuses a reply to a reply, to a deleted root or to a message of another room with BAD_USER_INPUT, an unknown root with NOT_FOUND, storing nothing', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const other = await s.seed.room(alice);
      await s.seed.invite(alice, other, bob);
      const root = await send(alice, room, 'root');
      const firstReply = await reply(alice, room, root, 'a reply');
      const gone = await send(alice, room, 'to be deleted');
      await ok(del(s.a, alice, gone.id));
      const elsewhere = await send(alice, other, 'in another room');
      const attempts = await Promise.all([
        sendRaw(bob, room, 'to a reply', { threadRootId: firstReply.id }),
        sendRaw(bob, room, 'to a deleted root', { threadRootId: gone.id }),
        sendRaw(bob, room, 'to another room', { threadRootId: elsewhere.id }),
        sendRaw(bob, room, 'to nothing', { threadRootId: MISSING_ID }),
      ]);
      expect(attempts.map((a) => [codes(a), a.data ?? null])).toEqual([
        [['BAD_USER_INPUT'], null],
        [['BAD_USER_INPUT'], null],
        [['BAD_USER_INPUT'], null],
        [['NOT_FOUND'], null],
      ]);
      // Nothing stored, no seq taken.
      expect(bodiesOf(await messages(alice, room))).toEqual(['root', 'a reply', '']);
      expect((await send(bob, room, 'next')).seq).toBe(4);
      expect((await threadOf(alice, room, root)).thread?.replyCount).toBe(1);
    });

    it('marks the thread read up to the reply for its author', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root');
      await reply(carol, room, root, 'one');
      await reply(carol, room, root, 'two');
      expect((await threadOf(bob, room, root)).thread).toMatchObject({ viewerSubscribed: false, unreadCount: 0 });
      await reply(bob, room, root, 'mine');
      expect((await threadOf(bob, room, root)).thread).toMatchObject({ viewerSubscribed: true, unreadCount: 0 });
      await reply(carol, room, root, 'three');
      expect((await threadOf(bob, room, root)).thread).toMatchObject({ viewerSubscribed: true, unreadCount: 1 });
      // The root's author follows from the first reply on and has read none of them.
      expect((await threadOf(alice, room, root)).thread).toMatchObject({ viewerSubscribed: true, unreadCount: 4 });
    });

    it('answers a clientId repeat of a reply with the same message and announces nothing twice', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root');
      await reply(bob, room, root, 'first reply'); // alice follows from here on
      const added = new Subscription(connect(s.b, carol.token), MESSAGE_ADDED, { r: room.id }, messageProbe(s.a, alice, room));
      const events = new Subscription(connect(s.b, carol.token), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, carol, room));
      const alices = myEventsOf(s.b, alice);
      await Promise.all([added.live(), events.live(), alices.live()]);
      const once = await send(bob, room, 'only once', { threadRootId: root.id, clientId: 'reply-1' });
      const again = await send(bob, room, 'only once', { threadRootId: root.id, clientId: 'reply-1' }, s.b);
      expect(again).toEqual(once);
      await Promise.all([added.flush(), events.flush(), alices.flush()]);
      expect(added.values.map((v) => v.messageAdded.id)).toEqual([once.id]);
      expect(changes(events).map((c) => [c.change, c.message.id, c.message.thread?.replyCount])).toEqual([
        ['THREAD', root.id, 2],
      ]);
      expect(threadReplyIds(alices)).toEqual([once.id]);
      expect((await threadOf(alice, room, root)).thread).toMatchObject({ replyCount: 2, unreadCount: 2 });
      expect((await threadMessages(alice, root)).edges.map((e) => e.node.body)).toEqual(['first reply', 'only once']);
    });
    it('answers a clientId repeat of a reply with the stored reply even once its root was deleted', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const root = await send(alice, room, 'root');
      const stored = await send(bob, room, 'my answer', { threadRootId: root.id, clientId: 'answer-1' });
      await ok(del(s.a, alice, root.id));
      // The client never saw the first answer (a lost response) and sends again: the reply was stored, so it is answered.
      const again = await sendRaw(bob, room, 'my answer', { threadRootId: root.id, clientId: 'answer-1' }, s.b);
      expect(again).toEqual({ data: { sendMessage: stored } });
      // A new reply to the deleted root is still refused.
      expect(codes(await sendRaw(bob, room, 'another', { threadRootId: root.id, clientId: 'answer-2' }))).toEqual([
        'BAD_USER_INPUT',
      ]);
    });
  });

  describe('Message.thread', () => {
    it('summarises the thread on its root: replyCount, lastReplyAt, the first 10 participants, viewerSubscribed, unreadCount', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const repliers = await s.seed.users(...Array.from({ length: 11 }, (_, i) => `replier${i + 1}`));
      await Promise.all(repliers.map((u) => s.seed.join(u, room)));
      const root = await send(alice, room, 'root'); // seq 1
      const quiet = await send(alice, room, 'nobody answers'); // seq 2
      const sent: Sent[] = [];
      for (const u of repliers) sent.push(await reply(u, room, root, `from ${u.username}`)); // seqs 3-13
      const last = await reply(repliers[0]!, room, root, 'again'); // seq 14
      const asAlice = await threadOf(alice, room, root, s.b);
      expect(asAlice.thread).toEqual({
        root: { id: root.id },
        replyCount: 12,
        lastReplyAt: last.createdAt,
        participants: repliers.slice(0, 10).map((u) => ({ id: u.id })),
        viewerSubscribed: true,
        unreadCount: 12,
      });
      // The eleventh replier follows and has read up to their own reply: one reply by someone else since.
      expect((await threadOf(repliers[10]!, room, root)).thread).toMatchObject({ viewerSubscribed: true, unreadCount: 1 });
      // A member who neither wrote the root nor replied does not follow it.
      expect((await threadOf(bob, room, root)).thread).toMatchObject({ replyCount: 12, viewerSubscribed: false, unreadCount: 0 });
      // No thread before a first reply, and none on a reply.
      expect((await threadOf(alice, room, quiet)).thread).toBeNull();
      expect((await threadOf(alice, room, sent[0]!)).thread).toBeNull();
    });

    it('announces MessageChanged THREAD on the root after a reply and after the deletion of a reply, on the other instance', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root');
      const sub = new Subscription(connect(s.b, bob.token), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, bob, room));
      await sub.live();
      const first = await reply(carol, room, root, 'one');
      await sub.until(() => changes(sub).length >= 1);
      await reply(carol, room, root, 'two');
      await sub.until(() => changes(sub).length >= 2);
      await ok(del(s.a, carol, first.id));
      await sub.until(() => changes(sub).length >= 4);
      await sub.flush();
      expect(changes(sub).map((c) => [c.change, c.message.id, c.message.thread?.replyCount ?? null])).toEqual([
        ['THREAD', root.id, 1],
        ['THREAD', root.id, 2],
        ['DELETED', first.id, null],
        ['THREAD', root.id, 1],
      ]);
      expect((await threadOf(alice, room, root)).thread).toMatchObject({ replyCount: 1 });
    });

    it('shows each subscriber of MessageChanged THREAD their own viewerSubscribed and unreadCount', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root');
      // One document, one instance: the two subscriptions share renderings wherever nothing depends on who looks.
      const watch = (member: TestUser) =>
        new Subscription(connect(s.b, member.token), THREAD_CHANGES, { r: room.id }, roomEventsProbe(s.a, member, room));
      const [alices, bobs] = [watch(alice), watch(bob)];
      await Promise.all([alices.live(), bobs.live()]);
      // Each event is rendered when it arrives, from the database as it is then: one reply at a time.
      await reply(carol, room, root, 'from carol');
      await Promise.all([alices, bobs].map((sub) => sub.until(() => changes(sub).length >= 1)));
      await reply(bob, room, root, 'from bob');
      await Promise.all([alices, bobs].map((sub) => sub.until(() => changes(sub).length >= 2)));
      const threadsSeen = (sub: Subscription) => changes(sub).map((c) => c.message.thread);
      expect(threadsSeen(alices)).toEqual([
        { replyCount: 1, viewerSubscribed: true, unreadCount: 1 },
        { replyCount: 2, viewerSubscribed: true, unreadCount: 2 },
      ]);
      // bob follows from his reply on, and has read up to it.
      expect(threadsSeen(bobs)).toEqual([
        { replyCount: 1, viewerSubscribed: false, unreadCount: 0 },
        { replyCount: 2, viewerSubscribed: true, unreadCount: 0 },
      ]);
    });

    it('keeps the thread of a deleted root readable: threadMessages and Message.thread on the tombstone', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const root = await send(alice, room, 'root');
      const one = await reply(bob, room, root, 'one');
      const two = await reply(bob, room, root, 'two');
      await ok(del(s.a, alice, root.id));
      const tombstone = await threadOf(bob, room, root, s.b);
      expect(tombstone).toMatchObject({ body: '', deletedAt: expect.any(String) });
      expect(tombstone.thread).toMatchObject({ root: { id: root.id }, replyCount: 2, lastReplyAt: two.createdAt });
      const replies = await threadMessages(bob, root, {}, s.b);
      expect(replies.edges.map((e) => e.node.id)).toEqual([one.id, two.id]);
      expect(rootIdsOf(await threads(bob, room))).toEqual([root.id]);
      // But nobody may reply to it any more.
      expect(codes(await sendRaw(bob, room, 'late', { threadRootId: root.id }))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('Query.messages(view)', () => {
    it('TIMELINE omits replies except showInRoom', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const root = await send(alice, room, 't1'); // seq 1
      await reply(bob, room, root, 'r2');
      await reply(bob, room, root, 'r3');
      await send(alice, room, 't4');
      await reply(bob, room, root, 's5', { showInRoom: true });
      await reply(bob, room, root, 'r6');
      await send(alice, room, 't7', { showInRoom: true }); // without a root it means nothing
      await reply(bob, room, root, 'r8');

      const all = await messages(bob, room, { view: 'ALL' }, s.b);
      expect(all.edges.map((e) => [e.node.seq, e.node.threadRootId, e.node.showInRoom])).toEqual([
        [1, null, false],
        [2, root.id, false],
        [3, root.id, false],
        [4, null, false],
        [5, root.id, true],
        [6, root.id, false],
        [7, null, false],
        [8, root.id, false],
      ]);
      expect(bodiesOf(await messages(bob, room))).toEqual(bodiesOf(all)); // ALL is the default
      const timeline = await messages(bob, room, { view: 'TIMELINE' }, s.b);
      expect(bodiesOf(timeline)).toEqual(['t1', 't4', 's5', 't7']);
      expect(flags(timeline)).toEqual([false, false]);

      // Forward: pages of the timeline only, and no next page where only replies follow.
      const TL = { view: 'TIMELINE' };
      const p1 = await messages(bob, room, { ...TL, first: 2 });
      expect([bodiesOf(p1), flags(p1)]).toEqual([
        ['t1', 't4'],
        [false, true],
      ]);
      const p2 = await messages(bob, room, { ...TL, first: 2, after: p1.pageInfo.endCursor });
      expect([bodiesOf(p2), flags(p2)]).toEqual([
        ['s5', 't7'],
        [true, false],
      ]);
      const p3 = await messages(bob, room, { ...TL, first: 2, after: p2.pageInfo.endCursor });
      expect([bodiesOf(p3), flags(p3)]).toEqual([[], [true, false]]);
      const whole = await messages(bob, room, { ...TL, first: 4 });
      expect([bodiesOf(whole), flags(whole)]).toEqual([
        ['t1', 't4', 's5', 't7'],
        [false, false],
      ]);
      // After a reply's cursor (seq 2): the timeline from seq 3 on; t1 lies before.
      const afterReply = await messages(bob, room, { ...TL, first: 1, after: all.edges[1]!.cursor });
      expect([bodiesOf(afterReply), flags(afterReply)]).toEqual([['t4'], [true, true]]);

      // Backward.
      const b1 = await messages(bob, room, { ...TL, last: 2 });
      expect([bodiesOf(b1), flags(b1)]).toEqual([
        ['s5', 't7'],
        [true, false],
      ]);
      const b2 = await messages(bob, room, { ...TL, last: 2, before: b1.pageInfo.startCursor });
      expect([bodiesOf(b2), flags(b2)]).toEqual([
        ['t1', 't4'],
        [false, true],
      ]);
      const b3 = await messages(bob, room, { ...TL, last: 3, before: all.edges[5]!.cursor }); // before r6
      expect([bodiesOf(b3), flags(b3)]).toEqual([
        ['t1', 't4', 's5'],
        [false, true],
      ]);
      // Before the last reply (seq 8): t7 and what precedes; nothing of the timeline from seq 8 on.
      const b4 = await messages(bob, room, { ...TL, last: 1, before: all.edges[7]!.cursor });
      expect([bodiesOf(b4), flags(b4)]).toEqual([['t7'], [true, false]]);
    });
  });

  describe('Room.unreadCount', () => {
    it('counts the timeline only: replies count when sent with showInRoom, and in Thread.unreadCount', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const root = await send(alice, room, 'root'); // seq 1, read by alice
      await reply(bob, room, root, 'in the thread only'); // 2
      expect(await unreadOf(alice, room, s.b)).toEqual({ unreadCount: 0, lastReadSeq: 1 });
      await reply(bob, room, root, 'also in the room', { showInRoom: true }); // 3
      expect((await unreadOf(alice, room, s.b)).unreadCount).toBe(1);
      await send(bob, room, 'timeline'); // 4
      await reply(bob, room, root, 'thread only again'); // 5
      expect((await unreadOf(alice, room, s.b)).unreadCount).toBe(2);
      const mine = (await gqlOk(s.b, 'query { myRooms { id unreadCount } }', {}, alice.token)).myRooms;
      expect(mine).toEqual([{ id: room.id, unreadCount: 2 }]);
      // A read position on a reply kept out of the timeline counts the timeline after it.
      expect((await gqlOk(s.a, MARK_READ, { r: room.id, s: 2 }, alice.token)).markRead.unreadCount).toBe(2);
      expect((await gqlOk(s.a, MARK_READ, { r: room.id, s: 3 }, alice.token)).markRead.unreadCount).toBe(1);
      expect((await gqlOk(s.a, MARK_READ, { r: room.id, s: 5 }, alice.token)).markRead.unreadCount).toBe(0);
      // The thread's replies are read in the thread, not in the room.
      expect((await threadOf(alice, room, root)).thread).toMatchObject({ unreadCount: 3 });
      expect(await markThreadRead(alice, root, 5)).toMatchObject({ unreadCount: 0 });
      // The replier's own count is untouched by his replies.
      expect((await unreadOf(bob, room)).unreadCount).toBe(0);
    });
  });

  describe('Query.threadMessages', () => {
    it("pages a thread's replies in seq order as messages() does", async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const root = await send(alice, room, 'root');
      const other = await send(alice, room, 'another root');
      for (let i = 1; i <= 5; i++) {
        await reply(bob, room, root, `r${i}`);
        await send(alice, room, `timeline ${i}`);
        await reply(alice, room, other, `elsewhere ${i}`);
      }
      const all = await threadMessages(alice, root, {}, s.b);
      expect([bodiesOf(all), flags(all)]).toEqual([
        ['r1', 'r2', 'r3', 'r4', 'r5'],
        [false, false],
      ]);
      expect(all.edges.every((e) => e.node.threadRootId === root.id)).toBe(true);
      const p1 = await threadMessages(alice, root, { first: 2 });
      expect([bodiesOf(p1), flags(p1)]).toEqual([
        ['r1', 'r2'],
        [false, true],
      ]);
      const p2 = await threadMessages(alice, root, { first: 2, after: p1.pageInfo.endCursor });
      expect([bodiesOf(p2), flags(p2)]).toEqual([
        ['r3', 'r4'],
        [true, true],
      ]);
      const p3 = await threadMessages(alice, root, { first: 2, after: p2.pageInfo.endCursor });
      expect([bodiesOf(p3), flags(p3)]).toEqual([['r5'], [true, false]]);
      const b1 = await threadMessages(alice, root, { last: 2 });
      expect([bodiesOf(b1), flags(b1)]).toEqual([
        ['r4', 'r5'],
        [true, false],
      ]);
      const b2 = await threadMessages(alice, root, { last: 5, before: b1.pageInfo.startCursor });
      expect([bodiesOf(b2), flags(b2)]).toEqual([
        ['r1', 'r2', 'r3'],
        [false, true],
      ]);
      // The limits of messages(): first and last together, a negative count, more than 200.
      for (const args of [{ first: 1, last: 1 }, { first: -1 }, { last: 201 }, { after: 'not-a-cursor' }]) {
        expect(codes(await gql(s.a, THREAD_MESSAGES, { t: root.id, ...args }, alice.token))).toEqual(['BAD_USER_INPUT']);
      }
      // A root nobody answered has an empty thread.
      const lone = await send(alice, room, 'lone');
      expect(await threadMessages(alice, lone)).toEqual({
        edges: [],
        pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      });
    });

    it('refuses a non-member with FORBIDDEN, a reply as root with BAD_USER_INPUT and an unknown root with NOT_FOUND', async () => {
      const { alice, bob, dave, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root');
      const answer = await reply(bob, room, root, 'answer');
      const asStranger = await gql(s.a, THREAD_MESSAGES, { t: root.id }, dave.token);
      expect([codes(asStranger), asStranger.data ?? null]).toEqual([['FORBIDDEN'], null]);
      expect(codes(await gql(s.a, THREAD_MESSAGES, { t: answer.id }, bob.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(s.a, THREAD_MESSAGES, { t: MISSING_ID }, bob.token))).toEqual(['NOT_FOUND']);
      // A member who left is a non-member.
      await s.seed.leave(bob, room);
      expect(codes(await gql(s.a, THREAD_MESSAGES, { t: root.id }, bob.token))).toEqual(['FORBIDDEN']);
    });
  });

  describe('Query.threads and Query.myThreads', () => {
    it("threads(roomId) lists the room's threads, most recent reply first, paged by cursor", async () => {
      const { alice, bob, dave, room } = await s.seed.roomOfThree();
      const [a, b, c] = [await send(alice, room, 'a'), await send(alice, room, 'b'), await send(alice, room, 'c')];
      await send(alice, room, 'no thread');
      await reply(bob, room, a, 'to a');
      await reply(bob, room, b, 'to b');
      await reply(bob, room, c, 'to c');
      await reply(bob, room, a, 'to a again');
      const whole = await threads(alice, room, {}, s.b);
      expect(rootIdsOf(whole)).toEqual([a.id, c.id, b.id]);
      expect(whole.edges.map((e) => e.node.replyCount)).toEqual([2, 1, 1]);
      const p1 = await threads(alice, room, { first: 2 });
      expect([rootIdsOf(p1), flags(p1)]).toEqual([
        [a.id, c.id],
        [false, true],
      ]);
      const p2 = await threads(alice, room, { first: 2, after: p1.pageInfo.endCursor });
      expect([rootIdsOf(p2), flags(p2)]).toEqual([[b.id], [true, false]]);
      expect(codes(await gql(s.a, THREADS, { r: room.id }, dave.token))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(s.a, THREADS, { r: room.id, after: 'not-a-cursor' }, alice.token))).toEqual(['BAD_USER_INPUT']);
      for (const first of [0, 101])
        expect(codes(await gql(s.a, THREADS, { r: room.id, first }, alice.token))).toEqual(['BAD_USER_INPUT']);
    });

    it('myThreads lists the threads the viewer follows across rooms, most recent reply first; unreadOnly those with unread replies', async () => {
      const [alice, bob, carol] = await s.seed.users('alice', 'bob', 'carol');
      const one = await s.seed.room(bob);
      const two = await s.seed.room(bob);
      for (const room of [one, two]) {
        await s.seed.invite(bob, room, alice);
        await s.seed.invite(bob, room, carol);
      }
      const mine = await send(alice, one, 'alice asks'); // alice follows as its author
      const bobs = await send(bob, two, 'bob asks'); // alice follows once she replies
      const carols = await send(carol, one, 'carol asks'); // alice never follows
      const later = await send(bob, two, 'bob asks later'); // alice subscribes herself
      const dropped = await send(carol, two, 'carol again'); // alice subscribes, then unsubscribes
      // The order is by the time of the newest reply: replies a few milliseconds apart.
      const step = () => sleep(5);
      await reply(bob, one, mine, 'to alice');
      await step();
      await reply(alice, two, bobs, 'alice answers');
      await step();
      await reply(bob, one, carols, 'to carol');
      await step();
      await reply(carol, two, later, 'to bob');
      await step();
      await reply(bob, two, dropped, 'to carol');
      await step();
      await reply(bob, one, mine, 'to alice again');
      expect(await gqlOk(s.a, SUBSCRIBE, { t: later.id }, alice.token)).toMatchObject({
        subscribeThread: { root: { id: later.id }, viewerSubscribed: true },
      });
      await gqlOk(s.b, SUBSCRIBE, { t: later.id }, alice.token); // idempotent
      await gqlOk(s.a, SUBSCRIBE, { t: dropped.id }, alice.token);
      expect(await gqlOk(s.a, UNSUBSCRIBE, { t: dropped.id }, alice.token)).toMatchObject({
        unsubscribeThread: { viewerSubscribed: false, unreadCount: 0 },
      });
      await gqlOk(s.b, UNSUBSCRIBE, { t: dropped.id }, alice.token); // idempotent

      const all = await myThreads(alice, {}, s.b);
      expect(rootIdsOf(all)).toEqual([mine.id, later.id, bobs.id]);
      expect(all.edges.map((e) => [e.node.viewerSubscribed, e.node.unreadCount])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
      ]);
      const p1 = await myThreads(alice, { first: 2 });
      expect([rootIdsOf(p1), flags(p1)]).toEqual([
        [mine.id, later.id],
        [false, true],
      ]);
      const p2 = await myThreads(alice, { first: 2, after: p1.pageInfo.endCursor });
      expect([rootIdsOf(p2), flags(p2)]).toEqual([[bobs.id], [true, false]]);
      expect(rootIdsOf(await myThreads(alice, { unread: true }))).toEqual([mine.id, later.id]);
      const u1 = await myThreads(alice, { unread: true, first: 1 });
      expect([rootIdsOf(u1), flags(u1)]).toEqual([[mine.id], [false, true]]);
      expect(rootIdsOf(await myThreads(alice, { unread: true, first: 1, after: u1.pageInfo.endCursor }))).toEqual([later.id]);
      await markThreadRead(alice, mine, 1_000_000);
      expect(rootIdsOf(await myThreads(alice, { unread: true }))).toEqual([later.id]);
      // A room left takes its threads out of the list.
      await s.seed.leave(alice, two);
      expect(rootIdsOf(await myThreads(alice))).toEqual([mine.id]);
      expect(codes(await gql(s.a, MY_THREADS, { first: 101 }, alice.token))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('Mutation.markThreadRead', () => {
    it('never moves backwards, and Thread.unreadCount counts the replies by others after it', async () => {
      const { alice, bob, carol, dave, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root'); // seq 1
      const [r1, r2, r3] = [
        await reply(bob, room, root, 'r1'),
        await reply(bob, room, root, 'r2'),
        await reply(bob, room, root, 'r3'),
      ];
      await send(bob, room, 'timeline'); // seq 5
      expect((await threadOf(alice, room, root)).thread?.unreadCount).toBe(3);
      expect(await markThreadRead(alice, root, r2.seq, s.b)).toMatchObject({ root: { id: root.id }, unreadCount: 1 });
      expect(await markThreadRead(alice, root, r1.seq)).toMatchObject({ unreadCount: 1 });
      expect(await markThreadRead(alice, root, 0)).toMatchObject({ unreadCount: 1 });
      expect(await markThreadRead(alice, root, r3.seq)).toMatchObject({ unreadCount: 0 });
      // Past the newest reply counts as the newest: a later reply is unread.
      expect(await markThreadRead(alice, root, 1_000_000)).toMatchObject({ unreadCount: 0 });
      await reply(bob, room, root, 'r4');
      expect((await threadOf(alice, room, root, s.b)).thread?.unreadCount).toBe(1);
      // Reading does not make a member follow: carol has nothing unread, before and after.
      expect(await markThreadRead(carol, root, r1.seq)).toMatchObject({ viewerSubscribed: false, unreadCount: 0 });
      const negative = await gql(s.a, MARK_THREAD_READ, { t: root.id, s: -1 }, alice.token);
      expect(codes(negative)).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(s.a, MARK_THREAD_READ, { t: root.id, s: 1 }, dave.token))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(s.a, MARK_THREAD_READ, { t: MISSING_ID, s: 1 }, alice.token))).toEqual(['NOT_FOUND']);
      expect((await threadOf(alice, room, root)).thread?.unreadCount).toBe(1);
    });
  });

  describe('Mutation.subscribeThread and Mutation.unsubscribeThread', () => {
    it('follow before the first reply: a subscriber is told of it, the root author who unsubscribed is not', async () => {
      const { alice, bob, carol, dave, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root');
      const followed = (await gqlOk(s.a, SUBSCRIBE, { t: root.id }, bob.token)).subscribeThread;
      expect(followed).toEqual({
        root: { id: root.id },
        replyCount: 0,
        lastReplyAt: null,
        participants: [],
        viewerSubscribed: true,
        unreadCount: 0,
      });
      expect((await gqlOk(s.a, UNSUBSCRIBE, { t: root.id }, alice.token)).unsubscribeThread).toMatchObject({
        viewerSubscribed: false,
      });
      // Following is not a reply: still no thread on the root.
      expect((await threadOf(alice, room, root)).thread).toBeNull();
      const [alices, bobs] = [myEventsOf(s.b, alice), myEventsOf(s.b, bob)];
      await Promise.all([alices.live(), bobs.live()]);
      const first = await reply(carol, room, root, 'first reply');
      await bobs.until(() => threadReplies(bobs).length >= 1);
      await Promise.all([alices.flush(), bobs.flush()]);
      expect(threadReplyIds(bobs)).toEqual([first.id]);
      expect(threadReplyIds(alices)).toEqual([]);
      expect((await threadOf(alice, room, root)).thread).toMatchObject({ viewerSubscribed: false, unreadCount: 0 });
      expect((await threadOf(bob, room, root)).thread).toMatchObject({ viewerSubscribed: true, unreadCount: 1 });
      // A non-member may not follow; a reply is not a thread; an unknown root is not found.
      expect(codes(await gql(s.a, SUBSCRIBE, { t: root.id }, dave.token))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(s.a, SUBSCRIBE, { t: first.id }, bob.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(s.a, UNSUBSCRIBE, { t: MISSING_ID }, bob.token))).toEqual(['NOT_FOUND']);
    });

    it('a member mentioned by an edit of a reply follows the thread', async () => {
      const { alice, bob, carol, room } = await s.seed.roomOfThree();
      const root = await send(alice, room, 'root');
      const answer = await reply(bob, room, root, 'an answer');
      expect((await threadOf(carol, room, root)).thread).toMatchObject({ viewerSubscribed: false });
      await gqlOk(
        s.a,
        'mutation($i: EditMessageInput!) { editMessage(input: $i) { id } }',
        { i: { id: answer.id, body: 'an answer, carol', mentions: [carol.id] } },
        bob.token,
      );
      expect((await threadOf(carol, room, root, s.b)).thread).toMatchObject({ viewerSubscribed: true, unreadCount: 1 });
      await reply(alice, room, root, 'thanks');
      expect((await threadOf(carol, room, root)).thread).toMatchObject({ viewerSubscribed: true, unreadCount: 2 });
    });
  });

  describe('ThreadReply on Subscription.myEvents', () => {
    it('a follower gets ThreadReply on the other instance, a non-follower does not', async () => {
      const { alice, bob, carol, dave, room } = await s.seed.roomOfThree();
      await s.seed.invite(alice, room, dave);
      const root = await send(alice, room, 'root');
      const [alices, bobs, carols, daves] = [
        myEventsOf(s.b, alice),
        myEventsOf(s.b, bob),
        myEventsOf(s.b, carol),
        myEventsOf(s.b, dave),
      ];
      await Promise.all([alices, bobs, carols, daves].map((sub) => sub.live()));

      // bob replies and mentions carol: alice (the root's author) is told, bob is not; bob and carol follow now.
      const r1 = await reply(bob, room, root, 'bob replies', { mentions: [carol.id] });
      await alices.until(() => threadReplies(alices).length >= 1);
      // alice replies: bob (a replier) and carol (mentioned in a reply) are told.
      const r2 = await reply(alice, room, root, 'alice replies');
      await bobs.until(() => threadReplies(bobs).length >= 1);
      await carols.until(() => threadReplyIds(carols).includes(r2.id));
      // carol replies: alice and bob are told.
      const r3 = await reply(carol, room, root, 'carol replies');
      await alices.until(() => threadReplies(alices).length >= 2);
      await bobs.until(() => threadReplies(bobs).length >= 2);
      // alice stops following: bob's next reply reaches carol only.
      expect(await gqlOk(s.a, UNSUBSCRIBE, { t: root.id }, alice.token)).toMatchObject({
        unsubscribeThread: { viewerSubscribed: false },
      });
      const r4 = await reply(bob, room, root, 'bob again');
      await carols.until(() => threadReplyIds(carols).includes(r4.id));
      await Promise.all([alices, bobs, carols, daves].map((sub) => sub.flush()));

      expect(threadReplyIds(alices)).toEqual([r1.id, r3.id]);
      expect(threadReplyIds(bobs)).toEqual([r2.id, r3.id]);
      // The reply that mentioned her made carol a follower; whether she is told of that very reply,
      // she learns of it by Mentioned anyway: the replies after it are what following means.
      expect(threadReplyIds(carols).filter((id) => id !== r1.id)).toEqual([r2.id, r4.id]);
      expect(threadReplyIds(daves)).toEqual([]);
      const event = threadReplies(alices)[1]!;
      expect(event).toEqual({
        __typename: 'ThreadReply',
        message: { id: r3.id, threadRootId: root.id, author: { id: carol.id } },
        thread: { root: { id: root.id }, replyCount: expect.any(Number) },
      });
      // dave got the replies as messages of his room, like any other.
      const newMessages = daves.values.filter(
        (v) => v.myEvents.__typename === 'NewMessage' && v.myEvents.message.roomId === room.id,
      );
      expect(newMessages).toHaveLength(4);
    });
  });

  describe('Query.searchMessages', () => {
    it('finds thread replies, with their threadRootId', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const word = `q${[...randomBytes(8)].map((b) => String.fromCharCode(97 + (b % 26))).join('')}x`;
      const root = await send(alice, room, 'root');
      const answer = await reply(bob, room, root, `the answer is ${word}`);
      const found = await gqlOk(
        s.b,
        'query($q: String!) { searchMessages(query: $q) { id threadRootId showInRoom body } }',
        { q: word },
        alice.token,
      );
      expect(found.searchMessages).toEqual([{ id: answer.id, threadRootId: root.id, showInRoom: false, body: answer.body }]);
    });
  });
});

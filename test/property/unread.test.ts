import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { gqlOk } from '../support/client.js';
import { seeder, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';
import { generousLimits, PROPERTY_TIMEOUT_MS, propertyParameters } from './setup.js';

/** Users of a run, by index; all of them members of one GROUP room. */
const USERS = 4;

/**
 * One thing someone does. Roots and messages are picked at run time among
 * those that qualify (`pick` modulo their number), so every generated step
 * means something whatever came before it.
 */
type Step =
  | { kind: 'send'; author: number; reply: boolean; pick: number; showInRoom: boolean; mentions: number[]; mentionRoom: boolean }
  | { kind: 'markRead'; user: number; back: number }
  | { kind: 'markThreadRead'; user: number; pick: number; back: number }
  | { kind: 'follow'; user: number; pick: number; subscribed: boolean }
  | { kind: 'delete'; user: number; pick: number }
  | { kind: 'block'; user: number; other: number; blocked: boolean };

const user = fc.integer({ min: 0, max: USERS - 1 });
const pick = fc.nat(50);
const back = fc.integer({ min: 0, max: 4 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      author: user,
      reply: fc.boolean(),
      pick,
      showInRoom: fc.boolean(),
      mentions: fc.uniqueArray(user, { maxLength: 3 }),
      mentionRoom: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('markRead' as const), user, back }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('markThreadRead' as const), user, pick, back }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('follow' as const), user, pick, subscribed: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), user, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('block' as const), user, other: user, blocked: fc.boolean() }) },
);

/** The contract's counting rules, written out here on their own over a plain list of messages. */
interface ModelMessage {
  id: string;
  seq: number;
  author: number;
  root: ModelMessage | null;
  showInRoom: boolean;
  mentions: Set<number>;
  mentionRoom: boolean;
  deleted: boolean;
}
interface Follow {
  subscribed: boolean;
  position: number;
}
interface Model {
  messages: ModelMessage[];
  read: number[];
  follows: Map<string, Follow>[];
  blocks: Set<string>;
}

const inTimeline = (m: ModelMessage) => m.root === null || m.showInRoom;
const blocked = (model: Model, u: number, author: number) => model.blocks.has(`${u}>${author}`);
const follow = (model: Model, u: number, rootId: string) => model.follows[u]!.get(rootId);
const setFollow = (model: Model, u: number, rootId: string, change: Partial<Follow>) =>
  model.follows[u]!.set(rootId, { subscribed: false, position: 0, ...follow(model, u, rootId), ...change });

/** Room.unreadCount: timeline messages by others past the read position, not by someone the reader blocked. */
function unreadCount(model: Model, u: number): number {
  return model.messages.filter((m) => inTimeline(m) && m.seq > model.read[u]! && m.author !== u && !blocked(model, u, m.author))
    .length;
}

/** Thread.unreadCount: replies by others past the follower's position, not deleted, not blocked; 0 when not following. */
function threadUnread(model: Model, u: number, root: ModelMessage): number {
  const f = follow(model, u, root.id);
  if (!f?.subscribed) return 0;
  return model.messages.filter(
    (m) => m.root === root && m.seq > f.position && m.author !== u && !m.deleted && !blocked(model, u, m.author),
  ).length;
}

/** Room.unreadMentionCount: unread timeline messages and unread replies of followed threads that mention u or the room. */
function unreadMentions(model: Model, u: number): number {
  return model.messages.filter((m) => {
    if (m.deleted || m.author === u || blocked(model, u, m.author)) return false;
    if (!m.mentions.has(u) && !m.mentionRoom) return false;
    if (inTimeline(m)) return m.seq > model.read[u]!;
    const f = follow(model, u, m.root!.id);
    return f !== undefined && f.subscribed && m.seq > f.position;
  }).length;
}

const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }`;
const STATE = `query($r: ID!) {
  room(id: $r) { unreadCount unreadMentionCount }
  threads(roomId: $r, first: 100) { edges { node { root { id } viewerSubscribed unreadCount } } }
}`;

forEachBackend('Random sequences of replies, mentions, reads, follows, deletions and blocks', (s) => {
  let app: App;
  let users: TestUser[];

  beforeAll(async () => {
    app = await s.backend.startApp(generousLimits());
    users = await Promise.all(Array.from({ length: USERS }, () => seeder(app).user('prop')));
  });

  const as = (u: number, query: string, variables: Record<string, unknown>) => gqlOk(app, query, variables, users[u]!.token);

  async function act(model: Model, room: TestRoom, s: Step): Promise<void> {
    const lastSeq = model.messages.length;
    const roots = model.messages.filter((m) => m.root === null && !m.deleted);
    const threads = model.messages.filter((m) => m.root === null && model.messages.some((r) => r.root === m));
    switch (s.kind) {
      case 'send': {
        const root = s.reply && roots.length > 0 ? roots[s.pick % roots.length]! : null;
        const mentions = s.mentions.map((i) => users[i]!.id);
        const input = {
          roomId: room.id,
          body: `message ${lastSeq + 1}`,
          ...(root ? { threadRootId: root.id, showInRoom: s.showInRoom } : {}),
          ...(mentions.length > 0 ? { mentions } : {}),
          ...(s.mentionRoom ? { mentionRoom: true } : {}),
        };
        const sent = (await as(s.author, SEND, { i: input })).sendMessage as { id: string; seq: number };
        const message: ModelMessage = {
          id: sent.id,
          seq: sent.seq,
          author: s.author,
          root,
          showInRoom: root !== null && s.showInRoom,
          mentions: new Set(s.mentions),
          mentionRoom: s.mentionRoom,
          deleted: false,
        };
        expect(sent.seq).toBe(lastSeq + 1);
        model.messages.push(message);
        if (inTimeline(message)) model.read[s.author] = Math.max(model.read[s.author]!, sent.seq);
        if (root) {
          const mine = follow(model, s.author, root.id);
          setFollow(model, s.author, root.id, { subscribed: true, position: Math.max(mine?.position ?? 0, sent.seq) });
          if (root.author !== s.author && !follow(model, root.author, root.id))
            setFollow(model, root.author, root.id, { subscribed: true });
          for (const m of s.mentions) if (m !== s.author) setFollow(model, m, root.id, { subscribed: true });
        }
        return;
      }
      case 'markRead': {
        const seq = Math.max(0, lastSeq - s.back);
        await as(s.user, 'mutation($r: ID!, $s: Int!) { markRead(roomId: $r, seq: $s) { id } }', { r: room.id, s: seq });
        model.read[s.user] = Math.max(model.read[s.user]!, seq);
        return;
      }
      case 'markThreadRead': {
        if (threads.length === 0) return;
        const root = threads[s.pick % threads.length]!;
        const replies = model.messages.filter((m) => m.root === root).map((m) => m.seq);
        const seq = Math.max(0, lastSeq - s.back);
        await as(s.user, 'mutation($t: ID!, $s: Int!) { markThreadRead(threadRootId: $t, seq: $s) { replyCount } }', {
          t: root.id,
          s: seq,
        });
        const position = Math.min(seq, Math.max(...replies));
        setFollow(model, s.user, root.id, { position: Math.max(follow(model, s.user, root.id)?.position ?? 0, position) });
        return;
      }
      case 'follow': {
        if (roots.length === 0) return;
        const root = roots[s.pick % roots.length]!;
        const field = s.subscribed ? 'subscribeThread' : 'unsubscribeThread';
        await as(s.user, `mutation($t: ID!) { ${field}(threadRootId: $t) { viewerSubscribed } }`, { t: root.id });
        setFollow(model, s.user, root.id, { subscribed: s.subscribed });
        return;
      }
      case 'delete': {
        const own = model.messages.filter((m) => m.author === s.user && !m.deleted);
        if (own.length === 0) return;
        const message = own[s.pick % own.length]!;
        await as(s.user, 'mutation($m: ID!) { deleteMessage(id: $m) { id } }', { m: message.id });
        message.deleted = true;
        return;
      }
      case 'block': {
        if (s.user === s.other) return;
        const field = s.blocked ? 'blockUser' : 'unblockUser';
        await as(s.user, `mutation($u: ID!) { ${field}(userId: $u) }`, { u: users[s.other]!.id });
        if (s.blocked) model.blocks.add(`${s.user}>${s.other}`);
        else model.blocks.delete(`${s.user}>${s.other}`);
        return;
      }
    }
  }

  async function run(steps: Step[]): Promise<void> {
    const seed = seeder(app);
    const room = await seed.room(users[0]!);
    for (const member of users.slice(1)) await seed.join(member, room);
    const model: Model = {
      messages: [],
      read: users.map(() => 0),
      follows: users.map(() => new Map()),
      blocks: new Set(),
    };
    try {
      for (const s of steps) await act(model, room, s);
      for (let u = 0; u < USERS; u++) {
        const state = await as(u, STATE, { r: room.id });
        const where = `user ${u} after ${JSON.stringify(steps)}`;
        expect(state.room, where).toEqual({ unreadCount: unreadCount(model, u), unreadMentionCount: unreadMentions(model, u) });
        const threads = state.threads.edges as Array<{
          node: { root: { id: string }; viewerSubscribed: boolean; unreadCount: number };
        }>;
        for (const { node } of threads) {
          const root = model.messages.find((m) => m.id === node.root.id)!;
          expect(node, `${where}, thread of seq ${root.seq}`).toMatchObject({
            viewerSubscribed: follow(model, u, root.id)?.subscribed ?? false,
            unreadCount: threadUnread(model, u, root),
          });
        }
      }
    } finally {
      // Blocks outlive the room: undo them so the next run starts clean.
      for (const pair of model.blocks) {
        const [a, b] = pair.split('>').map(Number) as [number, number];
        await as(a, 'mutation($u: ID!) { unblockUser(userId: $u) }', { u: users[b]!.id });
      }
    }
  }

  it(
    'keeps Room.unreadCount, Room.unreadMentionCount and Thread.unreadCount equal to counting the history by the rules',
    async () => {
      await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), run), propertyParameters(30, 30_000));
    },
    PROPERTY_TIMEOUT_MS,
  );
});

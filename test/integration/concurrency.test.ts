import { describe, expect, it } from 'vitest';
import { codes, gql, gqlOk, Subscription, trackedClients, type GqlResult } from '../support/client.js';
import { scrape, value } from '../support/metrics.js';
import { messageProbe } from '../support/probes.js';
import { MISSING_ID, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq clientId } }';
const MESSAGE_ADDED = 'subscription($roomId: ID!) { messageAdded(roomId: $roomId) { id seq body } }';
const SEND_FULL = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { id seq body clientId author { id } replyTo { id } }
}`;
const READ_STATE = 'query($id: ID!) { room(id: $id) { lastReadSeq unreadCount } }';
const HISTORY = `query($roomId: ID!, $after: String) {
  messages(roomId: $roomId, first: 200, after: $after) { edges { node { seq } } pageInfo { hasNextPage endCursor } }
}`;

/** Both instances' send statements of several messages, and batches sent again one by one, from /metrics. */
async function sendStatements(...apps: App[]): Promise<{ batches: number; split: number }> {
  let batches = 0;
  let split = 0;
  for (const app of apps) {
    const samples = await scrape(app);
    batches += value(samples, 'chat_send_statements_total{kind="batch"}');
    split += value(samples, 'chat_send_statements_total{kind="split"}');
  }
  return { batches, split };
}

forEachBackend('Concurrent senders on two instances', (s) => {
  const tracked = trackedClients();

  it('gives 200 concurrent sendMessage calls split across both instances seq exactly 1..200, delivered in order', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const probe = messageProbe(s.a, bob, room);
    const live = new Subscription(tracked(s.b, bob.token), MESSAGE_ADDED, { roomId: room.id }, probe);
    const probes = await live.live(); // the probes took seqs 1..probes

    const sends = Array.from({ length: 200 }, (_, i) =>
      gqlOk(i % 2 === 0 ? s.a : s.b, SEND, { input: { roomId: room.id, body: `m${i}` } }, i % 3 === 0 ? bob.token : alice.token),
    );
    const results = await Promise.all(sends);
    const seqs = results.map((r) => r.sendMessage.seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => probes + i + 1));

    const history = await gqlOk(s.a, HISTORY, { roomId: room.id, after: probe.sent.at(-1)!.cursor }, alice.token);
    expect(history.messages.edges.map((e: { node: { seq: number } }) => e.node.seq)).toEqual(seqs);

    // Commits publish in any order across instances; the subscriber still sees seq order.
    await live.next(200, 20_000);
    expect(live.values.map((v) => v.messageAdded.seq)).toEqual(seqs);
  });

  it('turns the same clientId sent concurrently through both instances into one message, delivered once', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const live = new Subscription(tracked(s.a, bob.token), MESSAGE_ADDED, { roomId: room.id }, messageProbe(s.a, bob, room));
    const probes = await live.live(); // the probes took seqs 1..probes

    const attempts = Array.from({ length: 10 }, (_, i) =>
      gqlOk(i % 2 === 0 ? s.a : s.b, SEND, { input: { roomId: room.id, body: 'once', clientId: 'retry-42' } }, alice.token),
    );
    const results = await Promise.all(attempts);
    const ids = new Set(results.map((r) => r.sendMessage.id));
    expect(ids.size).toBe(1);
    expect(results.every((r) => r.sendMessage.seq === probes + 1 && r.sendMessage.clientId === 'retry-42')).toBe(true);

    // No seq was burnt by the losing attempts: the next message is the one after.
    const next = await gqlOk(s.b, SEND, { input: { roomId: room.id, body: 'after' } }, alice.token);
    expect(next.sendMessage.seq).toBe(probes + 2);

    await live.next(2);
    await live.flush(); // a later message has arrived: a duplicate delivery would have come before it
    expect(live.values.map((v) => [v.messageAdded.seq, v.messageAdded.body])).toEqual([
      [probes + 1, 'once'],
      [probes + 2, 'after'],
    ]);
  });
});

interface Sent {
  id: string;
  seq: number;
  body: string;
  clientId: string | null;
  author: { id: string };
  replyTo: { id: string } | null;
}

/** One sendMessage call of a burst, and what it answered. */
interface Send {
  app: App;
  author: TestUser;
  body: string;
  clientId: string | null;
  replyToId?: string;
  result?: GqlResult<{ sendMessage: Sent }>;
}

/** Every call at once; resolves when all have answered. */
async function burst(sends: Send[], roomId: string): Promise<void> {
  await Promise.all(
    sends.map(async (send) => {
      const input = { roomId, body: send.body, clientId: send.clientId, replyToId: send.replyToId ?? null };
      send.result = await gql(send.app, SEND_FULL, { input }, send.author.token);
    }),
  );
}

const sent = (send: Send): Sent => {
  if (send.result?.errors) throw new Error(`Unexpected GraphQL errors: ${JSON.stringify(send.result.errors)}`);
  return send.result!.data!.sendMessage;
};

forEachBackend('Concurrent sends into one room, committed together', (s) => {
  const tracked = trackedClients();

  describe('Mutation.sendMessage in a burst', () => {
    it('gives each caller its own message, seqs without gap, a repeated clientId its first message once, and a non-member FORBIDDEN', async () => {
      const { alice, bob, carol, dave, room } = await s.seed.roomOfThree(); // dave is no member
      const authors = [alice, bob, carol];
      const probe = messageProbe(s.a, bob, room);
      const live = new Subscription(tracked(s.b, carol.token), MESSAGE_ADDED, { roomId: room.id }, probe);
      const probes = await live.live(); // the probes took seqs 1..probes
      const question = probe.sent.at(-1)!;
      const { batches: batchesBefore, split: splitBefore } = await sendStatements(s.a, s.b);

      // Burst 1: 60 new messages through both instances, every fourth without
      // a clientId, two of them replies; six repeats of their clientIds (three
      // through the same instance as the original, three through the other),
      // and a stranger's send in the middle.
      const first: Send[] = Array.from({ length: 60 }, (_, i) => ({
        app: i % 2 === 0 ? s.a : s.b,
        author: authors[i % 3]!,
        body: `first burst ${i}`,
        clientId: i % 4 === 0 ? null : `c-${i}`,
        ...(i === 10 || i === 41 ? { replyToId: question.id } : {}),
      }));
      const repeatsInBurst: Send[] = [1, 2, 3, 5, 6, 7].map((i, k) => ({
        ...first[i]!,
        app: k < 3 ? first[i]!.app : first[i]!.app === s.a ? s.b : s.a,
        body: `first burst ${i}, again`,
      }));
      const stranger: Send = { app: s.a, author: dave, body: 'let me in', clientId: 'c-stranger' };
      const burst1 = [...first.slice(0, 30), stranger, ...repeatsInBurst, ...first.slice(30)];
      await burst(burst1, room.id);

      // Burst 2: 20 new messages, and 10 repeats of clientIds of burst 1.
      const second: Send[] = Array.from({ length: 20 }, (_, i) => ({
        app: i % 2 === 0 ? s.b : s.a,
        author: authors[i % 3]!,
        body: `second burst ${i}`,
        clientId: `d-${i}`,
      }));
      const repeatsAcross: Send[] = [9, 13, 14, 15, 17, 18, 19, 21, 22, 23].map((i) => ({
        ...first[i]!,
        app: i % 2 === 0 ? s.b : s.a,
        body: `first burst ${i}, retried later`,
      }));
      await burst([...second.slice(0, 10), ...repeatsAcross, ...second.slice(10)], room.id);

      // Sends really were committed in statements of several messages. On
      // PGlite statements never interleave, so none can meet a clientId
      // committed after its snapshot: a batch sent again one by one there
      // would hide a fault of the batch statement behind the fallback.
      const statements = await sendStatements(s.a, s.b);
      expect(statements.batches).toBeGreaterThan(batchesBefore);
      if (s.name === 'embedded') expect(statements.split).toBe(splitBefore);

      expect(codes(stranger.result!)).toEqual(['FORBIDDEN']);
      expect(stranger.result!.data).toBeNull();

      // Each new message is its caller's own: its body, author, clientId, reply.
      // (A send repeated within the burst through the other instance races its
      // repeat: either body may be the one stored, as the next check says.)
      const raced = new Set(repeatsInBurst.map((repeat) => repeat.clientId));
      for (const send of [...first, ...second]) {
        const message = sent(send);
        const body = raced.has(send.clientId) ? [`${send.body}, again`, send.body].find((b) => b === message.body) : send.body;
        expect([message.body, message.author.id, message.clientId]).toEqual([body, send.author.id, send.clientId]);
        expect(message.replyTo).toEqual(send.replyToId ? { id: send.replyToId } : null);
      }
      // A repeat within the burst answers the one message both calls made, whichever came first.
      for (const repeat of repeatsInBurst) {
        const original = first.find((send) => send.clientId === repeat.clientId)!;
        expect(sent(repeat)).toEqual(sent(original));
        expect([original.body, repeat.body]).toContain(sent(repeat).body);
      }
      // A repeat in a later burst answers the first message, unchanged.
      for (const repeat of repeatsAcross) {
        const original = first.find((send) => send.clientId === repeat.clientId)!;
        expect(sent(repeat)).toEqual(sent(original));
      }

      // Seqs follow the probes with no gap, one per distinct message, and history holds exactly those.
      const messages = new Map([...first, ...second, ...repeatsInBurst].map((send) => [sent(send).id, sent(send)]));
      const total = first.length + second.length;
      expect(messages.size).toBe(total);
      const seqs = [...messages.values()].map((m) => m.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: total }, (_, i) => probes + i + 1));
      const history = await gqlOk(s.a, HISTORY, { roomId: room.id, after: question.cursor }, alice.token);
      expect(history.messages.edges.map((e: { node: { seq: number } }) => e.node.seq)).toEqual(seqs);

      // Each author has read up to their newest message; the rest by others after it is unread.
      const bySeq = [...messages.values()].sort((x, y) => x.seq - y.seq);
      for (const author of authors) {
        const newest = Math.max(...bySeq.filter((m) => m.author.id === author.id).map((m) => m.seq));
        const unread = bySeq.filter((m) => m.seq > newest && m.author.id !== author.id).length;
        const { room: state } = await gqlOk(s.b, READ_STATE, { id: room.id }, author.token);
        expect(state).toEqual({ lastReadSeq: newest, unreadCount: unread });
      }

      // The subscriber got every message once, in seq order.
      await live.next(total, 20_000);
      await live.flush(); // a later message has arrived: a duplicate delivery would have come before it
      expect(live.values.map((v) => v.messageAdded.seq)).toEqual(seqs);
      expect(live.values.map((v) => v.messageAdded.id)).toEqual(bySeq.map((m) => m.id));
    });

    it('answers each of many concurrent sends to a room that does not exist with NOT_FOUND', async () => {
      const alice = await s.seed.user('alice');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          gql(i % 2 === 0 ? s.a : s.b, SEND, { input: { roomId: MISSING_ID, body: `m${i}` } }, alice.token),
        ),
      );
      for (const result of results) {
        expect(codes(result)).toEqual(['NOT_FOUND']);
        expect(result.data).toBeNull();
      }
    });
  });
});

import { expect, it } from 'vitest';
import { gqlOk, sleep, Subscription, trackedClients } from '../support/client.js';
import { forEachBackend } from '../support/suite.js';

const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq clientId } }';
const MESSAGE_ADDED = 'subscription($roomId: ID!) { messageAdded(roomId: $roomId) { id seq body } }';
const HISTORY = `query($roomId: ID!, $after: String) {
  messages(roomId: $roomId, first: 200, after: $after) { edges { node { seq } } pageInfo { hasNextPage endCursor } }
}`;

forEachBackend('Concurrent senders on two instances', (s) => {
  const tracked = trackedClients();

  it('gives 200 concurrent sendMessage calls split across both instances seq exactly 1..200, delivered in order', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const client = tracked(s.b, bob.token);
    const live = new Subscription(client, MESSAGE_ADDED, { roomId: room.id });
    await sleep(300);

    const sends = Array.from({ length: 200 }, (_, i) =>
      gqlOk(i % 2 === 0 ? s.a : s.b, SEND, { input: { roomId: room.id, body: `m${i}` } }, i % 3 === 0 ? bob.token : alice.token),
    );
    const results = await Promise.all(sends);
    const seqs = results.map((r) => r.sendMessage.seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

    const history = await gqlOk(s.a, HISTORY, { roomId: room.id }, alice.token);
    expect(history.messages.edges.map((e: { node: { seq: number } }) => e.node.seq)).toEqual(seqs);

    // Commits publish in any order across instances; the subscriber still sees seq order.
    await live.next(200, 20_000);
    expect(live.values.map((v) => v.messageAdded.seq)).toEqual(seqs);
  });

  it('turns the same clientId sent concurrently through both instances into one message, delivered once', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const client = tracked(s.a, bob.token);
    const live = new Subscription(client, MESSAGE_ADDED, { roomId: room.id });
    await sleep(300);

    const attempts = Array.from({ length: 10 }, (_, i) =>
      gqlOk(i % 2 === 0 ? s.a : s.b, SEND, { input: { roomId: room.id, body: 'once', clientId: 'retry-42' } }, alice.token),
    );
    const results = await Promise.all(attempts);
    const ids = new Set(results.map((r) => r.sendMessage.id));
    expect(ids.size).toBe(1);
    expect(results.every((r) => r.sendMessage.seq === 1 && r.sendMessage.clientId === 'retry-42')).toBe(true);

    // No seq was burnt by the losing attempts: the next message is 2.
    const next = await gqlOk(s.b, SEND, { input: { roomId: room.id, body: 'after' } }, alice.token);
    expect(next.sendMessage.seq).toBe(2);

    await live.next(2);
    await sleep(500); // a duplicate delivery would arrive by now
    expect(live.values.map((v) => [v.messageAdded.seq, v.messageAdded.body])).toEqual([
      [1, 'once'],
      [2, 'after'],
    ]);
  });
});

import { expect, it } from 'vitest';
import { gqlOk, Subscription, trackedClients } from '../support/client.js';
import { messageProbe } from '../support/probes.js';
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

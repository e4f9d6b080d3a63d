import { expect, it } from 'vitest';
import { gqlOk, Subscription, trackedClients } from '../support/client.js';
import { messageProbe } from '../support/probes.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const MESSAGE_ADDED = `subscription($roomId: ID!, $after: String) {
  messageAdded(roomId: $roomId, after: $after) { id seq body cursor roomId author { id username } }
}`;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

forEachBackend('Subscription.messageAdded', (s) => {
  const client = trackedClients();
  /** `viewer`'s messageAdded on `app`, probed with messages of theirs sent through A, as the tests send. */
  const watch = (app: App, viewer: TestUser, room: TestRoom, after?: string) =>
    new Subscription(client(app, viewer.token), MESSAGE_ADDED, { roomId: room.id, after }, messageProbe(s.a, viewer, room));

  it('delivers messages in seq order with their author', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const sub = watch(s.a, bob, room);
    const probes = await sub.live(); // registered before anything is sent; the probes took seqs 1..probes
    for (let i = 1; i <= 5; i++) await s.seed.send(alice, room, `m${i}`);
    await sub.next(5);
    expect(sub.values.map((v) => v.messageAdded.seq)).toEqual(range(probes + 1, probes + 5));
    expect(sub.values.map((v) => v.messageAdded.body)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(sub.values[0].messageAdded.author).toEqual({ id: alice.id, username: alice.username });
    sub.dispose();
  });

  it('delivers what is sent through instance A to a subscriber on instance B', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const sub = watch(s.b, bob, room);
    const probes = await sub.live();
    const sent = await s.seed.send(alice, room, 'across instances');
    await sub.next(1);
    expect(sub.values[0].messageAdded).toMatchObject({ id: sent.id, seq: probes + 1, body: 'across instances' });
  });

  it('replays exactly the missing messages after a cursor, then continues live, while another client sends', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const first = [];
    for (let i = 1; i <= 10; i++) first.push(await s.seed.send(alice, room, `before ${i}`));
    // A concurrent sender on the other instance keeps posting while bob resumes.
    let sending = true;
    const sender = (async () => {
      let n = 0;
      while (sending && n < 40) {
        await s.seed.send(alice, room, `during ${++n}`);
      }
      return n;
    })();
    const sub = watch(s.b, bob, room, first[3]!.cursor);
    await sub.next(15);
    sending = false;
    const sentDuring = await sender;
    const total = 10 + sentDuring;
    await sub.next(total - 4);
    await sub.flush(); // a later message has arrived: nothing before it is still on its way
    const seqs = sub.values.map((v) => v.messageAdded.seq);
    expect(seqs).toEqual(Array.from({ length: total - 4 }, (_, i) => i + 5));
  });

  it('resumes on another instance from the last cursor received, with no gap and no duplicate', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const onA = watch(s.a, bob, room);
    const probes = await onA.live();
    for (let i = 1; i <= 3; i++) await s.seed.send(alice, room, `a${i}`);
    await onA.next(3);
    onA.dispose();
    for (let i = 4; i <= 6; i++) await s.seed.send(alice, room, `a${i}`);
    const onB = watch(s.b, bob, room, onA.values[2].messageAdded.cursor);
    await onB.next(3);
    await s.seed.send(alice, room, 'a7');
    await onB.next(4);
    expect(onB.values.map((v) => v.messageAdded.seq)).toEqual(range(probes + 4, probes + 7));
  });

  it('still delivers a message whose announcement never reached this instance, read from the database', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const isolated = await s.backend.startIsolatedApp();
    const sub = watch(s.a, bob, room);
    const probes = await sub.live();
    const viaIsolated = await gqlOk(
      isolated,
      'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }',
      { i: { roomId: room.id, body: 'unannounced' } },
      alice.token,
    );
    expect(viaIsolated.sendMessage.seq).toBe(probes + 1);
    await sub.next(1); // found by the feed's poll of rooms.last_seq
    await s.seed.send(alice, room, 'announced');
    await sub.next(2);
    expect(sub.values.map((v) => [v.messageAdded.seq, v.messageAdded.body])).toEqual([
      [probes + 1, 'unannounced'],
      [probes + 2, 'announced'],
    ]);
  });

  it('fills a gap at once when a later message arrives before an earlier one was announced', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const isolated = await s.backend.startIsolatedApp();
    const sub = watch(s.a, bob, room);
    await sub.live();
    await gqlOk(
      isolated,
      'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }',
      { i: { roomId: room.id, body: 'lost' } },
      alice.token,
    );
    await s.seed.send(alice, room, 'seen');
    await sub.next(2);
    expect(sub.values.map((v) => v.messageAdded.body)).toEqual(['lost', 'seen']);
  });

  it('refuses a non-member with FORBIDDEN', async () => {
    const { room } = await s.seed.roomWithTwoMembers();
    const stranger = await s.seed.user('stranger');
    const sub = new Subscription(client(s.a, stranger.token), MESSAGE_ADDED, { roomId: room.id });
    await sub.settled();
    const errors = (sub.results[0]?.errors ?? (sub.error as { message: string; extensions?: unknown }[])) as Array<{
      extensions?: { code?: string };
    }>;
    expect(errors.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(sub.values.filter((v) => v?.messageAdded)).toEqual([]);
  });

  it('refuses an unknown room with NOT_FOUND and a bad cursor with BAD_USER_INPUT', async () => {
    const { bob, room } = await s.seed.roomWithTwoMembers();
    const missing = new Subscription(client(s.a, bob.token), MESSAGE_ADDED, { roomId: MISSING_ID });
    await missing.settled();
    expect(missing.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    const badCursor = new Subscription(client(s.a, bob.token), MESSAGE_ADDED, { roomId: room.id, after: 'not-a-cursor' });
    await badCursor.settled();
    expect(badCursor.results[0]?.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('sends nothing more after leaveRoom, also when the leave goes through the other instance', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const sub = watch(s.b, bob, room);
    await sub.live();
    await s.seed.send(alice, room, 'while a member');
    await sub.next(1);
    await s.seed.leave(bob, room);
    await s.seed.send(alice, room, 'after leaving');
    await sub.settled(); // complete: the client takes nothing more for this subscription, so what it got came before
    expect(sub.values.map((v) => v.messageAdded.body)).toEqual(['while a member']);
    expect(sub.completed).toBe(true);
  });
});

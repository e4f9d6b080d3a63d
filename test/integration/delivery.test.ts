import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { gqlOk, Subscription, trackedClients, wsUrl } from '../support/client.js';
import { messageProbe } from '../support/probes.js';
import { forEachBackend } from '../support/suite.js';

/**
 * The delivery engine's promises, through the protocol: one rendering per
 * event is shared only where it is the same for every viewer, each event
 * sees fresh data, and a socket that stops reading is closed (1013) instead
 * of buffering without bound, and resumes without a gap.
 */
forEachBackend('Live delivery', (s) => {
  const client = trackedClients();

  it('renders per viewer what depends on the viewer: two members of one selection see their own read state', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const query = 'subscription($r: ID!) { messageAdded(roomId: $r) { id seq body room { unreadCount lastReadSeq } } }';
    // Both on one instance, with the same document: one group, whose rendering reads the viewer.
    const forAlice = new Subscription(client(s.a, alice.token), query, { r: room.id }, messageProbe(s.a, alice, room));
    const forBob = new Subscription(client(s.a, bob.token), query, { r: room.id }, messageProbe(s.a, bob, room));
    await forAlice.live();
    await forBob.live();
    await gqlOk(s.a, 'mutation($r: ID!) { markRead(roomId: $r, seq: 1000000) { id } }', { r: room.id }, bob.token);
    const sent = await s.seed.send(alice, room, 'hello');
    await forAlice.next(1);
    await forBob.next(1);
    // Sending marked alice read up to her message; bob read everything before it.
    expect(forAlice.values[0].messageAdded).toMatchObject({ seq: sent.seq, room: { unreadCount: 0, lastReadSeq: sent.seq } });
    expect(forBob.values[0].messageAdded).toMatchObject({ seq: sent.seq, room: { unreadCount: 1, lastReadSeq: sent.seq - 1 } });
  });

  it('reads fresh data for every event: a reply to a message deleted since shows the tombstone', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const query = 'subscription($r: ID!) { messageAdded(roomId: $r) { id body replyTo { id body deletedAt } } }';
    const sub = new Subscription(client(s.a, bob.token), query, { r: room.id }, messageProbe(s.a, bob, room));
    await sub.live();
    const original = await s.seed.send(alice, room, 'the original words');
    await s.seed.send(alice, room, 'first reply', { replyToId: original.id });
    await sub.next(2);
    expect(sub.values[1].messageAdded.replyTo).toMatchObject({ id: original.id, body: 'the original words', deletedAt: null });
    await gqlOk(s.a, 'mutation($id: ID!) { deleteMessage(id: $id) { id } }', { id: original.id }, alice.token);
    await s.seed.send(alice, room, 'second reply', { replyToId: original.id });
    await sub.next(3);
    expect(sub.values[2].messageAdded.replyTo).toMatchObject({ id: original.id, body: '' });
    expect(sub.values[2].messageAdded.replyTo.deletedAt).not.toBeNull();
  });

  it('closes a socket that stops reading with 1013, without slowing the others, and it resumes with no gap', async () => {
    const app = await s.backend.startApp({ wsMaxBufferedBytes: 64 * 1024 });
    const seed = s.seed;
    const { alice, bob, room } = await seed.roomWithTwoMembers();
    const query = 'subscription($r: ID!, $after: String) { messageAdded(roomId: $r, after: $after) { id seq body cursor } }';
    const steady = new Subscription(client(app, alice.token), query, { r: room.id }, messageProbe(app, alice, room));
    await steady.live();

    // A plain socket speaking the protocol, so it can stop reading.
    const stalled = new WebSocket(wsUrl(app), 'graphql-transport-ws');
    const frames: Array<{ seq: number; cursor: string }> = [];
    const closed = new Promise<number>((resolve) => stalled.on('close', (code) => resolve(code)));
    stalled.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as {
        type: string;
        payload?: { data?: { messageAdded: { seq: number; cursor: string } } };
      };
      if (message.type === 'connection_ack') {
        stalled.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query, variables: { r: room.id } } }));
      } else if (message.type === 'next' && message.payload?.data) {
        frames.push(message.payload.data.messageAdded);
      }
    });
    await new Promise((resolve) => stalled.once('open', resolve));
    stalled.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bob.token}` } }));
    const firstSeen = frames.length;
    while (frames.length === firstSeen) await seed.send(alice, room, 'probe'); // until the stalled one is live
    (stalled as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    // Several MB for a reader that reads nothing, from 8 concurrent senders.
    const body = 'x'.repeat(3000);
    let next = 0;
    const total = 1500;
    let last = 0;
    // The server gives a reader that never reads a few seconds to take its close frame before cutting
    // it: the stalled one reads again as soon as the server counts it slow, sends still going on.
    let sending = true;
    const closedSlow = (async () => {
      while (sending && (await slowReaderCloses(app.url)) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      (stalled as unknown as { _socket: { resume(): void } })._socket.resume();
    })();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          next++;
          last = Math.max(last, (await seed.send(alice, room, body)).seq);
        }
      }),
    );
    sending = false;
    await closedSlow;
    // The steady subscriber got all of it, in order.
    await steady.until(() => steady.values.at(-1)?.messageAdded.seq === last, 30_000, 'the last message');
    const seqs = steady.values.map((v) => v.messageAdded.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));

    expect(await closed).toBe(1013);
    expect(frames.at(-1)!.seq).toBeLessThan(last); // closed long before everything reached it

    // It resumes from its last cursor, on the same server: everything after it, once, in order.
    const resumed = new Subscription(client(app, bob.token), query, { r: room.id, after: frames.at(-1)!.cursor });
    await resumed.until(() => resumed.values.at(-1)?.messageAdded.seq === last, 30_000, 'the resumed stream to catch up');
    expect(resumed.values.map((v) => v.messageAdded.seq)).toEqual(
      Array.from({ length: last - frames.at(-1)!.seq }, (_, i) => frames.at(-1)!.seq + 1 + i),
    );
  }, 90_000);
});

forEachBackend('Live delivery over SSE', (s) => {
  it('serves messageAdded as server-sent events too, resuming after a cursor', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const sent = await s.seed.sendMany(alice, room, 3);
    const controller = new AbortController();
    const response = await fetch(`${s.b.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({
        query: 'subscription($r: ID!, $after: String) { messageAdded(roomId: $r, after: $after) { seq body } }',
        variables: { r: room.id, after: sent[0]!.cursor },
      }),
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const seqs: number[] = [];
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    const readUntil = async (count: number) => {
      while (seqs.length < count) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended after ${JSON.stringify(seqs)}`);
        buffered += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          const seq = data
            ? (JSON.parse(data) as { data?: { messageAdded: { seq: number } } }).data?.messageAdded.seq
            : undefined;
          if (seq !== undefined) seqs.push(seq);
        }
      }
    };
    await readUntil(2); // the replay after the first message
    const live = await s.seed.send(alice, room, 'live'); // through the other instance
    await readUntil(3);
    expect(seqs).toEqual([sent[1]!.seq, sent[2]!.seq, live.seq]);
    controller.abort();
  });
});

/** The server's count of sockets closed for reading too slowly, from /metrics. */
async function slowReaderCloses(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('chat_slow_reader_closes_total'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

import { describe, expect, it, vi } from 'vitest';
import type { MessageRow } from '../../src/db/schema.js';
import type { Logger } from '../../src/logger.js';
import type { EventBus } from '../../src/realtime/bus.js';
import { createMemoryBus } from '../../src/realtime/bus.memory.js';
import { RoomFeed, type ActivitySubscriber, type MessageSubscriber, type RoomActivity } from '../../src/realtime/feed.js';
import { topics } from '../../src/realtime/topics.js';

const ROOM = '00000000-0000-4000-8000-000000000001';
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const message = (seq: number): MessageRow => ({
  id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
  roomId: ROOM,
  seq,
  authorId: '00000000-0000-4000-8000-00000000aaaa',
  body: `message ${seq}`,
  clientId: null,
  replyToId: null,
  createdAt: new Date('2026-12-01T00:00:00.000Z'),
  editedAt: null,
  deletedAt: null,
});

/** The database as the feed sees it: committed messages 1..n; every read is recorded. */
class FakeSource {
  committed: MessageRow[] = [];
  readonly reads: Array<{ afterSeq: number; limit: number }> = [];
  constructor(count = 0) {
    this.commit(count);
  }
  commit(count: number): MessageRow[] {
    const added = Array.from({ length: count }, (_, i) => message(this.committed.length + i + 1));
    this.committed.push(...added);
    return added;
  }
  after = async (_roomId: string, afterSeq: number, limit: number) => {
    this.reads.push({ afterSeq, limit });
    return this.committed.filter((m) => m.seq > afterSeq).slice(0, limit);
  };
  heads = async () => [{ id: ROOM, lastSeq: this.committed.length }];
}

class Recorder implements MessageSubscriber, ActivitySubscriber {
  readonly seqs: number[] = [];
  readonly events: RoomActivity[] = [];
  ended = false;
  constructor(
    readonly userId: string,
    private readonly feed: () => RoomFeed,
  ) {}
  offer(m: MessageRow) {
    this.seqs.push(m.seq);
  }
  notify(event: RoomActivity) {
    this.events.push(event);
  }
  end() {
    this.ended = true;
    this.feed().detach(this);
  }
}

async function startFeed(source: FakeSource, options: { gapGraceMs?: number; pageSize?: number; bus?: EventBus } = {}) {
  const bus = options.bus ?? createMemoryBus();
  const release = vi.fn();
  const feed = new RoomFeed({
    roomId: ROOM,
    bus,
    source,
    logger: silent,
    gapGraceMs: options.gapGraceMs ?? 20,
    pageSize: options.pageSize ?? 200,
    release,
  });
  const subscriber = new Recorder('user-1', () => feed);
  feed.attachMessages(subscriber);
  await feed.ready;
  const announce = (m: MessageRow) => bus.publish(topics.room(ROOM), { type: 'message', message: m });
  return { feed, bus, subscriber, release, announce };
}

describe('RoomFeed', () => {
  it('starts after the head committed when it started, and emits only what follows', async () => {
    const source = new FakeSource(3);
    const { feed, subscriber, announce } = await startFeed(source);
    expect(feed.head).toBe(3);
    await announce(message(2)); // at or below the head: already history
    const [fourth] = source.commit(1);
    await announce(fourth!);
    expect(subscriber.seqs).toEqual([4]);
  });

  it('holds a message that arrives before its predecessor and emits both in seq order', async () => {
    const source = new FakeSource();
    const { subscriber, announce } = await startFeed(source, { gapGraceMs: 10_000 });
    const [first, second, third] = source.commit(3);
    await announce(third!);
    await announce(second!);
    expect(subscriber.seqs).toEqual([]);
    await announce(first!);
    expect(subscriber.seqs).toEqual([1, 2, 3]);
    expect(source.reads).toEqual([]); // pub/sub had everything: the database was not asked
  });

  it('never emits a seq twice, whether announced twice or read from the database too', async () => {
    const source = new FakeSource();
    const { feed, subscriber, announce } = await startFeed(source);
    const [first, second] = source.commit(2);
    await announce(first!);
    await announce(first!);
    feed.fill();
    await vi.waitFor(() => expect(subscriber.seqs).toEqual([1, 2]));
    await announce(second!);
    expect(subscriber.seqs).toEqual([1, 2]);
  });

  it('reads a gap from the database when the predecessor does not arrive within the grace period', async () => {
    const source = new FakeSource();
    const { subscriber, announce } = await startFeed(source, { gapGraceMs: 20 });
    const committed = source.commit(4);
    await announce(committed[3]!); // 1..3 were never announced
    expect(subscriber.seqs).toEqual([]);
    await vi.waitFor(() => expect(subscriber.seqs).toEqual([1, 2, 3, 4]));
    expect(source.reads).toEqual([{ afterSeq: 0, limit: 200 }]);
  });

  it('fills page by page, from its own head, until the database has no more', async () => {
    const source = new FakeSource();
    const { feed, subscriber } = await startFeed(source, { pageSize: 200 });
    source.commit(450); // committed, none announced: what the hub's poll finds
    feed.fill();
    await vi.waitFor(() => expect(subscriber.seqs).toHaveLength(450));
    expect(subscriber.seqs).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
    expect(source.reads.map((r) => r.afterSeq)).toEqual([0, 200, 400]);
  });

  it('runs one fill at a time and reads again when asked meanwhile', async () => {
    const source = new FakeSource();
    const { feed, subscriber } = await startFeed(source);
    source.commit(2);
    feed.fill();
    feed.fill(); // while the first read is in flight
    source.commit(1);
    await vi.waitFor(() => expect(subscriber.seqs).toEqual([1, 2, 3]));
    expect(source.reads.map((r) => r.afterSeq)).toEqual([0, 2]); // not two reads from 0 at once
  });

  it('delivers other room events to activity subscribers only, and ends a leaver before anyone hears of it', async () => {
    const source = new FakeSource();
    const { feed, bus, subscriber } = await startFeed(source);
    const leaver = new Recorder('user-2', () => feed);
    const stayer = new Recorder('user-3', () => feed);
    feed.attachActivity(leaver);
    feed.attachActivity(stayer);
    await bus.publish(topics.room(ROOM), { type: 'typing', userId: 'user-3', typing: true });
    await bus.publish(topics.room(ROOM), { type: 'member', change: 'LEFT', userId: 'user-2' });
    expect(leaver.events.map((e) => e.type)).toEqual(['typing']);
    expect(leaver.ended).toBe(true);
    expect(stayer.events.map((e) => e.type)).toEqual(['typing', 'member']);
    expect(subscriber.events).toEqual([]); // a message subscriber hears of messages only
  });

  it('lets go of itself when its last subscriber leaves, and unsubscribes on dispose', async () => {
    const source = new FakeSource();
    const bus = createMemoryBus();
    const unsubscribe = vi.spyOn(bus, 'unsubscribe');
    const { feed, subscriber, release, announce } = await startFeed(source, { bus });
    expect(release).not.toHaveBeenCalled();
    subscriber.end();
    expect(release).toHaveBeenCalledWith(feed);
    await feed.dispose();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    const [first] = source.commit(1);
    await announce(first!);
    expect(subscriber.seqs).toEqual([]);
  });
});

import { describe, expect, it, vi } from 'vitest';
import type { MessageRow } from '../../src/db/schema.js';
import type { Logger } from '../../src/logger.js';
import type { EventBus } from '../../src/realtime/bus.js';
import { createMemoryBus } from '../../src/realtime/bus.memory.js';
import { RoomFeed } from '../../src/realtime/feed.js';
import { SubscriberGroup, type Renderer } from '../../src/realtime/group.js';
import type { EndReason, Sink } from '../../src/realtime/live-source.js';
import { topics, type RoomActivity } from '../../src/realtime/topics.js';
import { messageRow } from '../support/message-row.js';

const ROOM = '00000000-0000-4000-8000-000000000001';
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent, enabled: () => false };

const message = (seq: number): MessageRow => messageRow({ roomId: ROOM, seq });

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
  /** Who is MODERATOR and above, as the database would answer. */
  moderatorIds = new Set<string>();
  moderators = async (_roomId: string, userIds: readonly string[]) => userIds.filter((id) => this.moderatorIds.has(id));
}

/** A transport's sink, recording what reaches it; its renderer passes each value through and counts. */
class Recorder<E extends MessageRow | RoomActivity> {
  readonly values: E[] = [];
  ended: EndReason | null = null;
  renders = 0;
  constructor(readonly key = 'selection') {}
  readonly renderer: Renderer<E, E> = {
    render: async (value) => {
      this.renders++;
      return { out: value, viewerDependent: false };
    },
  };
  sink(): Sink<E> {
    return {
      key: this.key,
      write: (value) => this.values.push(value),
      end: (reason) => (this.ended = reason),
    };
  }
  get seqs() {
    return (this.values as MessageRow[]).map((m) => m.seq);
  }
}

/** Lets pending renderings and deliveries run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

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
  const join = (userId: string, afterSeq: number | null = null, recorder = new Recorder<MessageRow>()) => {
    const member = feed.addMessageSubscriber(userId);
    member.start(afterSeq);
    member.bind(recorder.sink(), recorder.renderer);
    return { member, recorder };
  };
  const first = feed.addMessageSubscriber('user-1');
  await feed.ready;
  first.start(null);
  const subscriber = new Recorder<MessageRow>();
  first.bind(subscriber.sink(), subscriber.renderer);
  const announce = (m: MessageRow) => bus.publish(topics.room(ROOM), { type: 'message', message: m });
  return { feed, bus, subscriber, member: first, release, announce, join };
}

describe('RoomFeed', () => {
  it('starts after the head committed when it started, and emits only what follows', async () => {
    const source = new FakeSource(3);
    const { feed, subscriber, announce } = await startFeed(source);
    expect(feed.head).toBe(3);
    await announce(message(2)); // at or below the head: already history
    const [fourth] = source.commit(1);
    await announce(fourth!);
    await vi.waitFor(() => expect(subscriber.seqs).toEqual([4]));
  });

  it('holds a message that arrives before its predecessor and emits both in seq order', async () => {
    const source = new FakeSource();
    const { subscriber, announce } = await startFeed(source, { gapGraceMs: 10_000 });
    const [first, second, third] = source.commit(3);
    await announce(third!);
    await announce(second!);
    await settle();
    expect(subscriber.seqs).toEqual([]);
    await announce(first!);
    await vi.waitFor(() => expect(subscriber.seqs).toEqual([1, 2, 3]));
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
    await settle();
    expect(subscriber.seqs).toEqual([1, 2]);
  });

  it('reads a gap from the database when the predecessor does not arrive within the grace period', async () => {
    const source = new FakeSource();
    const { subscriber, announce } = await startFeed(source, { gapGraceMs: 20 });
    const committed = source.commit(4);
    await announce(committed[3]!); // 1..3 were never announced
    expect(subscriber.seqs).toEqual([]); // nothing before the grace period (20 ms) ran out
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

  it('delivers other room events to activity members only, and ends a leaver before anyone hears of it', async () => {
    const source = new FakeSource();
    const { feed, bus, subscriber } = await startFeed(source);
    const leaver = new Recorder<RoomActivity>();
    const stayer = new Recorder<RoomActivity>();
    feed.addActivitySubscriber('user-2').bind(leaver.sink(), leaver.renderer);
    feed.addActivitySubscriber('user-3').bind(stayer.sink(), stayer.renderer);
    await bus.publish(topics.room(ROOM), { type: 'typing', userId: 'user-3', typing: true });
    await bus.publish(topics.room(ROOM), { type: 'member', change: 'LEFT', userId: 'user-2' });
    await vi.waitFor(() => expect(stayer.values.map((e) => e.type)).toEqual(['typing', 'member']));
    // The typing event was still being rendered when the leave arrived: nothing reaches a leaver after it left.
    expect(leaver.values).toEqual([]);
    expect(leaver.ended).toBe('complete');
    expect(subscriber.values).toEqual([]); // a message member hears of messages only
  });

  it('delivers moderators-only events to the moderators the database names as each event arrives, in order with the rest', async () => {
    const source = new FakeSource();
    const { feed, bus } = await startFeed(source);
    const moderator = new Recorder<RoomActivity>();
    const member = new Recorder<RoomActivity>();
    feed.addActivitySubscriber('mod').bind(moderator.sink(), moderator.renderer);
    feed.addActivitySubscriber('member').bind(member.sink(), member.renderer);
    source.moderatorIds.add('mod');
    const report = (id: string) => ({ type: 'report' as const, reportId: id, audience: 'moderators' as const });
    await bus.publish(topics.room(ROOM), report('r1'));
    await bus.publish(topics.room(ROOM), { type: 'typing', userId: 'member', typing: true });
    await vi.waitFor(() => expect(member.values).toHaveLength(1));
    // Demoted: the next one reaches nobody, and the events for everyone still do.
    source.moderatorIds.delete('mod');
    await bus.publish(topics.room(ROOM), report('r2'));
    await bus.publish(topics.room(ROOM), { type: 'moderation', actionId: 'a1', audience: 'members' });
    await vi.waitFor(() => expect(member.values).toHaveLength(2));
    await vi.waitFor(() => expect(moderator.values).toHaveLength(3));
    expect(moderator.values).toEqual([
      report('r1'),
      { type: 'typing', userId: 'member', typing: true },
      { type: 'moderation', actionId: 'a1', audience: 'members' },
    ]);
    expect(member.values.map((e) => e.type)).toEqual(['typing', 'moderation']);
  });

  it('delivers a moderators-only event to nobody when the database cannot say who moderates', async () => {
    const source = new FakeSource();
    const { feed, bus } = await startFeed(source);
    const moderator = new Recorder<RoomActivity>();
    feed.addActivitySubscriber('mod').bind(moderator.sink(), moderator.renderer);
    source.moderators = async () => Promise.reject(new Error('database down'));
    await bus.publish(topics.room(ROOM), { type: 'report', reportId: 'r1', audience: 'moderators' });
    await bus.publish(topics.room(ROOM), { type: 'typing', userId: 'mod', typing: true });
    await vi.waitFor(() => expect(moderator.values).toHaveLength(1));
    expect(moderator.values.map((e) => e.type)).toEqual(['typing']);
    expect(moderator.ended).toBeNull();
  });

  it('lets go of itself when its last subscriber leaves, and unsubscribes on dispose', async () => {
    const source = new FakeSource();
    const bus = createMemoryBus();
    const unsubscribe = vi.spyOn(bus, 'unsubscribe');
    const { feed, subscriber, member, release, announce } = await startFeed(source, { bus });
    expect(release).not.toHaveBeenCalled();
    member.end();
    expect(subscriber.ended).toBe('complete');
    expect(release).toHaveBeenCalledWith(feed);
    await feed.dispose();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    const [first] = source.commit(1);
    await announce(first!);
    await settle();
    expect(subscriber.seqs).toEqual([]);
  });
});

describe('Shared rendering (fanout groups)', () => {
  it('renders each event once for every member with the same selection, and once more for another selection', async () => {
    const source = new FakeSource();
    const { subscriber, announce, join } = await startFeed(source);
    const sameSelection = [join('user-2').recorder, join('user-3').recorder];
    const other = join('user-4', null, new Recorder<MessageRow>('another selection')).recorder;
    for (const m of source.commit(3)) await announce(m);
    await vi.waitFor(() => expect(other.seqs).toEqual([1, 2, 3]));
    for (const r of [subscriber, ...sameSelection]) expect(r.seqs).toEqual([1, 2, 3]);
    // The group renders with its first member's renderer: three renderings for three members, not nine.
    expect(subscriber.renders + sameSelection.reduce((n, r) => n + r.renders, 0)).toBe(3);
    expect(other.renders).toBe(3);
  });

  it('renders again per viewer when a rendering read the viewer, so no member gets another viewer’s', async () => {
    const source = new FakeSource();
    const { feed, announce } = await startFeed(source);
    const seen = new Map<string, string[]>();
    const personal: Renderer<MessageRow, string> = {
      render: async (m, viewer) => ({ out: `${m.seq} for ${viewer.userId}`, viewerDependent: true }),
    };
    for (const userId of ['user-2', 'user-3', 'user-3']) {
      const member = feed.addMessageSubscriber(userId);
      member.start(null);
      const got: string[] = [];
      seen.set(`${userId}#${seen.size}`, got);
      member.bind({ key: 'personal', write: (out: string) => got.push(out), end: () => {} }, personal);
    }
    for (const m of source.commit(2)) await announce(m);
    await vi.waitFor(() => expect([...seen.values()].every((got) => got.length === 2)).toBe(true));
    for (const [who, got] of seen) {
      const userId = who.split('#')[0];
      expect(got).toEqual([`1 for ${userId}`, `2 for ${userId}`]);
    }
  });

  it('catches a resuming member up from the database, then hands it the shared renderings, each seq once', async () => {
    const source = new FakeSource();
    const { subscriber, announce, join } = await startFeed(source, { pageSize: 2 });
    for (const m of source.commit(5)) await announce(m);
    await vi.waitFor(() => expect(subscriber.seqs).toEqual([1, 2, 3, 4, 5]));
    const resuming = join('user-2', 1).recorder; // has seq 1, as a client resuming with its cursor
    const [sixth] = source.commit(1);
    await announce(sixth!);
    await vi.waitFor(() => expect(resuming.seqs).toEqual([2, 3, 4, 5, 6]));
    await settle();
    expect(resuming.seqs).toEqual([2, 3, 4, 5, 6]);
    expect(subscriber.seqs).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads what was emitted between registering a member and binding it', async () => {
    const source = new FakeSource();
    const { feed, announce } = await startFeed(source);
    const member = feed.addMessageSubscriber('user-2');
    member.start(null); // registered at head 0, its checks still running
    for (const m of source.commit(2)) await announce(m);
    const late = new Recorder<MessageRow>();
    member.bind(late.sink(), late.renderer);
    await vi.waitFor(() => expect(late.seqs).toEqual([1, 2]));
  });

  it('ends its members when a rendering fails, and when its backlog overflows', async () => {
    const logger = silent;
    const failing = new SubscriberGroup<number, number>({
      key: 'k',
      logger,
      renderer: { render: () => Promise.reject(new Error('boom')) },
    });
    const stuck = new SubscriberGroup<number, number>({
      key: 'k',
      logger,
      maxBacklog: 2,
      renderer: { render: () => new Promise(() => {}) },
    });
    const ends: string[] = [];
    const member = (name: string) => ({
      viewer: { userId: name },
      deliver: () => true,
      fail: (reason: string) => ends.push(`${name}:${reason}`),
    });
    failing.subscribers.add(member('a'));
    stuck.subscribers.add(member('b'));
    failing.offer(1);
    for (let i = 0; i < 3; i++) stuck.offer(i); // the third finds two still in flight
    await vi.waitFor(() => expect(ends.sort()).toEqual(['a:error', 'b:overload']));
  });
});

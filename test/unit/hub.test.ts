import { describe, expect, it } from 'vitest';
import type { MessageRow } from '../../src/db/schema.js';
import type { Logger } from '../../src/logger.js';
import { createMemoryBus } from '../../src/realtime/bus.memory.js';
import type { FeedSource } from '../../src/realtime/feed.js';
import { Hooks } from '../../src/realtime/hooks.js';
import { RoomHub } from '../../src/realtime/hub.js';
import type { EndReason } from '../../src/realtime/live-source.js';
import { messageRow } from '../support/message-row.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent, enabled: () => false };
const roomId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** The database as the poll sees it: room heads and memberships; every query is recorded. */
class FakeSource implements FeedSource {
  readonly heads_: Array<readonly string[]> = [];
  readonly membershipQueries: number[] = [];
  readonly reads: string[] = [];
  lastSeq = new Map<string, number>();
  members = new Set<string>();
  after = async (room: string, afterSeq: number, limit: number): Promise<MessageRow[]> => {
    this.reads.push(room);
    const last = this.lastSeq.get(room) ?? 0;
    return Array.from({ length: Math.min(limit, Math.max(0, last - afterSeq)) }, (_, i) =>
      messageRow({
        id: `${room}-${afterSeq + i + 1}`,
        roomId: room,
        seq: afterSeq + i + 1,
        authorId: 'a',
        body: 'b',
        createdAt: new Date(0),
      }),
    );
  };
  heads = async (roomIds: readonly string[]) => {
    this.heads_.push(roomIds);
    return roomIds.map((id) => ({ id, lastSeq: this.lastSeq.get(id) ?? 0 }));
  };
  moderators = async () => [];
  notMembers = async (pairs: ReadonlyArray<{ roomId: string; userId: string }>) => {
    this.membershipQueries.push(pairs.length);
    return pairs.filter((p) => !this.members.has(`${p.roomId}/${p.userId}`));
  };
}

describe('RoomHub.poll', () => {
  it('checks every live room and every subscriber’s own membership, in chunks, and acts on what it finds', async () => {
    const source = new FakeSource();
    const hub = new RoomHub({
      bus: createMemoryBus(),
      source,
      hooks: new Hooks(silent),
      logger: silent,
      pollMs: 60_000,
      pollChunk: 2,
    });
    const ends = new Map<string, EndReason>();
    for (let r = 1; r <= 5; r++) {
      for (const user of ['ann', 'ben']) {
        source.members.add(`${roomId(r)}/${user}`);
        const live = await hub.messages(roomId(r), user, null);
        live.bind(
          { key: 'k', write: () => {}, end: (reason) => ends.set(`${r}/${user}`, reason) },
          { render: async (m: MessageRow) => ({ out: m, viewerDependent: false }) },
        );
      }
    }
    source.heads_.length = 0;
    source.members.delete(`${roomId(3)}/ben`); // ben left room 3 and no event said so
    source.lastSeq.set(roomId(4), 2); // room 4 got two messages whose announcements were lost

    await hub.poll();

    expect(source.heads_.every((chunk) => chunk.length <= 2)).toBe(true);
    expect(source.heads_.flat().sort()).toEqual([1, 2, 3, 4, 5].map(roomId).sort());
    expect(source.membershipQueries).toEqual([2, 2, 2, 2, 2]); // ten subscriber pairs, two per query
    expect([...ends]).toEqual([['3/ben', 'complete']]);
    expect(source.reads).toContain(roomId(4));
    await hub.stop();
  });
});

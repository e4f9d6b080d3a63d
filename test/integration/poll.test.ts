import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { memberships, openDatabase, rooms, RoomsStore, users, type DatabaseHandle } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

/**
 * The feed poll's membership query against the real database: the pairs
 * travel as one JSON parameter, so a poll over more subscribers than a
 * statement may carry parameters (postgres.js: 65,534) still answers.
 */
forEachBackend('The feed poll’s membership check', (s) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openDatabase(s.backend.config.database);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('answers for 70,000 (room, user) pairs in one query, with exactly the pairs that are not memberships', async () => {
    const [user] = await handle.db
      .insert(users)
      .values({ username: `poll_${randomUUID().slice(0, 8)}`, passwordHash: 'x' })
      .returning();
    const [room] = await handle.db.insert(rooms).values({ kind: 'GROUP', visibility: 'PUBLIC', name: 'poll' }).returning();
    await handle.db.insert(memberships).values({ roomId: room!.id, userId: user!.id, role: 'OWNER' });
    const pairs: Array<{ roomId: string; userId: string }> = Array.from({ length: 70_000 }, () => ({
      roomId: randomUUID(),
      userId: randomUUID(),
    }));
    pairs[12_345] = { roomId: room!.id, userId: user!.id };
    const gone = await new RoomsStore(handle.db).notMembers(pairs);
    expect(gone).toHaveLength(69_999);
    expect(gone).not.toContainEqual({ roomId: room!.id, userId: user!.id });
    expect(gone).toContainEqual(pairs[0]);
  });
});

import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import { scrape, value } from '../support/metrics.js';
import { seeder, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';
import { generousLimits, PROPERTY_TIMEOUT_MS, propertyParameters } from './setup.js';
import { RawSocket } from './socket.js';

const MESSAGE_ADDED = 'subscription($r: ID!, $after: String) { messageAdded(roomId: $r, after: $after) { id } }';
const LIVE = 'chat_subscriptions_active{field="messageAdded",transport="ws"}';
const IDS = ['a', 'b', 'c'];

/**
 * One client message of a run: `toggle` subscribes an id that is free and
 * completes one that is subscribed (so every sequence keeps the protocol:
 * an id is reused only after its complete); `pause` waits until the server
 * has read everything sent so far, while what those frames started may
 * still be preparing.
 */
type Step = { kind: 'toggle'; id: string } | { kind: 'pause' };

const steps = fc
  .integer({ min: 1, max: IDS.length })
  .chain((ids) =>
    fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...IDS.slice(0, ids)).map((id): Step => ({ kind: 'toggle', id })) },
        { weight: 1, arbitrary: fc.constant<Step>({ kind: 'pause' }) },
      ),
      { minLength: 1, maxLength: 24 },
    ),
  );

const toggle = (id: string): Step => ({ kind: 'toggle', id });
/** Subscribe, complete and subscribe again, back to back: the first was left bound under the second's id. */
const RESUBSCRIBED = [toggle('a'), toggle('a'), toggle('a')];
const INTERLEAVED = [toggle('a'), toggle('b'), toggle('a'), toggle('c'), toggle('a'), toggle('b'), toggle('b')];

forEachBackend('Random subscribe/complete sequences on one socket', (s) => {
  let app: App;
  let user: TestUser;
  let room: TestRoom;
  /** The cursor of the room's newest message: each run subscribes after it, so a late subscription replays what it missed. */
  let newest: string;

  beforeAll(async () => {
    app = await s.backend.startApp(generousLimits());
    const seed = seeder(app);
    user = await seed.user('prop');
    room = await seed.room(user);
    newest = (await seed.send(user, room, 'start')).cursor;
  });

  /** Sends a message into the room; every id subscribed at the end of a run must get it exactly once. */
  const marker = async () => {
    const sent = await seeder(app).send(user, room, 'marker');
    newest = sent.cursor;
    return sent.id;
  };

  async function run(sequence: Step[]): Promise<void> {
    const baseline = value(await scrape(app), LIVE);
    const socket = await RawSocket.open(app);
    try {
      expect(await socket.init({ authorization: `Bearer ${user.token}` })).toBe(true);
      const subscribed = new Set<string>();
      for (const step of sequence) {
        if (step.kind === 'pause') {
          await socket.roundTrip();
        } else if (subscribed.delete(step.id)) {
          await socket.send(JSON.stringify({ id: step.id, type: 'complete' }));
        } else {
          subscribed.add(step.id);
          const payload = { query: MESSAGE_ADDED, variables: { r: room.id, after: newest } };
          await socket.send(JSON.stringify({ id: step.id, type: 'subscribe', payload }));
        }
      }
      // Every complete has been read: from here on nothing may arrive for an id that is not subscribed.
      await socket.roundTrip();
      const nexts = (id: string, messageId: string) =>
        socket.messages().filter((m) => m.id === id && m.type === 'next' && m.payload?.data?.messageAdded?.id === messageId)
          .length;
      // Two markers: whatever a second subscription of an id would have sent with the first has arrived by the second.
      const markers = [await marker(), await marker()];
      await socket.until(
        () => [...subscribed].every((id) => markers.every((m) => nexts(id, m) > 0)),
        'both markers on every subscribed id',
      );

      expect(socket.closedWith).toBeNull();
      for (const id of IDS) {
        const expected = subscribed.has(id) ? 1 : 0;
        for (const m of markers) expect(nexts(id, m), `${id} got marker ${m}`).toBe(expected);
      }
      expect(socket.messages().filter((m) => m.type !== 'connection_ack' && m.type !== 'pong' && m.type !== 'next')).toEqual([]);
      expect(value(await scrape(app), LIVE) - baseline, 'subscriptions counted live').toBe(subscribed.size);
    } finally {
      await socket.close();
    }
    await eventually(async () => value(await scrape(app), LIVE) === baseline, 'the live gauge back at its baseline');
  }

  it(
    'after a complete sends nothing more for its id, counts exactly the ids still subscribed, and none once the socket closed',
    async () => {
      await fc.assert(
        fc.asyncProperty(steps, async (sequence) => run(sequence)),
        propertyParameters(100, 20_000, [[RESUBSCRIBED], [INTERLEAVED]]),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

import { describe, expect, it } from 'vitest';
import type { MessageRow } from '../../src/db/schema.js';
import type { InsertOutcome, NewMessage } from '../../src/features/messages/messages.store.js';
import { SendQueue, type SendStore } from '../../src/features/messages/send-queue.js';
import { messageRow } from '../support/message-row.js';

const ROOM = '00000000-0000-4000-8000-000000000001';
const OTHER_ROOM = '00000000-0000-4000-8000-000000000002';
const AUTHOR = '00000000-0000-4000-8000-00000000aaaa';

const input = (body: string, roomId = ROOM): NewMessage => ({ roomId, authorId: AUTHOR, body, clientId: null, replyToId: null });
const inserted = (body: string, seq: number): InsertOutcome => ({ kind: 'inserted', message: row(body, seq) });
const row = (body: string, seq: number): MessageRow => messageRow({ roomId: ROOM, seq, authorId: AUTHOR, body });
/** An error as the drivers report a Postgres one, wrapped as drizzle wraps it. */
const pgFailure = (code: string, constraint?: string) =>
  Object.assign(new Error('Failed query'), { cause: { code, constraint_name: constraint } });

interface Call {
  kind: 'one' | 'many';
  roomId: string;
  bodies: string[];
  settle: { resolve: (value: any) => void; reject: (error: unknown) => void };
}

/** A store whose statements stay in flight until the test settles them. */
function fakeStore() {
  const calls: Call[] = [];
  const waiters: Array<() => void> = [];
  const record = <T>(kind: Call['kind'], roomId: string, bodies: string[]) =>
    new Promise<T>((resolve, reject) => {
      calls.push({ kind, roomId, bodies, settle: { resolve, reject } });
      for (const wake of waiters.splice(0)) wake();
    });
  const store: SendStore = {
    insert: (message) => record<InsertOutcome>('one', message.roomId, [message.body]),
    insertMany: (roomId, messages) =>
      record<InsertOutcome[]>(
        'many',
        roomId,
        messages.map((m) => m.body),
      ),
  };
  /** Resolves with the n-th statement (from 1) once it was made. */
  const call = async (n: number): Promise<Call> => {
    while (calls.length < n) await new Promise<void>((wake) => waiters.push(wake));
    return calls[n - 1]!;
  };
  return { store, calls, call };
}

describe('SendQueue', () => {
  it('sends a lone message as a one-message statement', async () => {
    const { store, calls, call } = fakeStore();
    const queue = new SendQueue(store);
    const sent = queue.send(input('hello'));
    (await call(1)).settle.resolve(inserted('hello', 1));
    expect(await sent).toEqual(inserted('hello', 1));
    expect(calls.map((c) => [c.kind, c.bodies])).toEqual([['one', ['hello']]]);
  });

  it('gathers sends to a quiet room made in the same event loop turn into one statement', async () => {
    const { store, calls, call } = fakeStore();
    const queue = new SendQueue(store);
    const sent = ['a', 'b', 'c'].map((body) => queue.send(input(body)));
    (await call(1)).settle.resolve(['a', 'b', 'c'].map((body, i) => inserted(body, i + 1)));
    expect(await Promise.all(sent)).toEqual(['a', 'b', 'c'].map((body, i) => inserted(body, i + 1)));
    expect(calls.map((c) => [c.kind, c.bodies])).toEqual([['many', ['a', 'b', 'c']]]);
  });

  it('sends what arrived while a statement was in flight as one statement, in arrival order, each caller its own outcome', async () => {
    const { store, calls, call } = fakeStore();
    const queue = new SendQueue(store);
    const first = queue.send(input('first'));
    const inFlight = await call(1);
    const later = ['x', 'y', 'z'].map((body) => queue.send(input(body)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(1); // nothing else goes while the room's statement is in flight

    inFlight.settle.resolve(inserted('first', 1));
    expect(await first).toEqual(inserted('first', 1));
    const batch = await call(2);
    expect([batch.kind, batch.bodies]).toEqual(['many', ['x', 'y', 'z']]);
    const outcomes: InsertOutcome[] = [inserted('x', 2), { kind: 'duplicate', message: row('first', 1) }, { kind: 'rejected' }];
    batch.settle.resolve(outcomes);
    expect(await Promise.all(later)).toEqual(outcomes);
  });

  it('keeps rooms apart: a statement in flight in one room holds back no other room', async () => {
    const { store, calls, call } = fakeStore();
    const queue = new SendQueue(store);
    const inRoom = queue.send(input('here'));
    const inFlight = await call(1);
    const elsewhere = queue.send(input('there', OTHER_ROOM));
    const other = await call(2);
    expect([other.kind, other.roomId, other.bodies]).toEqual(['one', OTHER_ROOM, ['there']]);
    other.settle.resolve(inserted('there', 1));
    inFlight.settle.resolve(inserted('here', 1));
    await Promise.all([inRoom, elsewhere]);
    expect(calls).toHaveLength(2);
  });

  it('commits at most maxBatch messages per statement, the rest in the next', async () => {
    const { store, calls, call } = fakeStore();
    const queue = new SendQueue(store, { maxBatch: 2 });
    const sent = ['a', 'b', 'c', 'd', 'e'].map((body) => queue.send(input(body)));
    (await call(1)).settle.resolve([inserted('a', 1), inserted('b', 2)]);
    (await call(2)).settle.resolve([inserted('c', 3), inserted('d', 4)]);
    (await call(3)).settle.resolve(inserted('e', 5));
    expect((await Promise.all(sent)).map((o) => (o.kind === 'rejected' ? null : o.message.seq))).toEqual([1, 2, 3, 4, 5]);
    expect(calls.map((c) => [c.kind, c.bodies])).toEqual([
      ['many', ['a', 'b']],
      ['many', ['c', 'd']],
      ['one', ['e']],
    ]);
  });

  it('tries a batch once more when another instance committed one of its clientIds after its snapshot', async () => {
    const { store, calls, call } = fakeStore();
    const queue = new SendQueue(store);
    const sent = ['a', 'b'].map((body) => queue.send(input(body)));
    (await call(1)).settle.reject(pgFailure('23505', 'messages_client_id_key'));
    const outcomes: InsertOutcome[] = [{ kind: 'duplicate', message: row('a', 7) }, inserted('b', 8)];
    (await call(2)).settle.resolve(outcomes);
    expect(await Promise.all(sent)).toEqual(outcomes);
    expect(calls.map((c) => c.kind)).toEqual(['many', 'many']);
  });

  it('sends a batch refused for what one message may cause again one message per statement, each caller its own answer', async () => {
    const { store, calls, call } = fakeStore();
    const queue = new SendQueue(store);
    const sent = ['a', 'bad', 'c'].map((body) => queue.send(input(body)).catch((error: Error) => error));
    (await call(1)).settle.reject(pgFailure('22P05'));
    (await call(2)).settle.resolve(inserted('a', 1));
    const refusal = pgFailure('22P05');
    (await call(3)).settle.reject(refusal);
    (await call(4)).settle.resolve(inserted('c', 2));
    expect(await Promise.all(sent)).toEqual([inserted('a', 1), refusal, inserted('c', 2)]);
    expect(calls.map((c) => [c.kind, c.bodies])).toEqual([
      ['many', ['a', 'bad', 'c']],
      ['one', ['a']],
      ['one', ['bad']],
      ['one', ['c']],
    ]);
  });

  it('gives every caller of a batch an error that is not about one message, without sending them one by one', async () => {
    const { store, calls, call } = fakeStore();
    const queue = new SendQueue(store);
    const sent = ['a', 'b'].map((body) => queue.send(input(body)).catch((error: Error) => error));
    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    (await call(1)).settle.reject(unreachable);
    expect(await Promise.all(sent)).toEqual([unreachable, unreachable]);
    // The room is free again afterwards.
    const after = queue.send(input('later'));
    (await call(2)).settle.resolve(inserted('later', 1));
    expect(await after).toEqual(inserted('later', 1));
    expect(calls.map((c) => c.kind)).toEqual(['many', 'one']);
  });
});

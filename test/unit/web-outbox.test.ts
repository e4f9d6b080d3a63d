import { describe, expect, it } from 'vitest';
import { ChatRequestError } from '../../client/index.js';
import { classify, describe as describeError, NetworkError } from '../../web/src/api.js';
import { outranks, remaining, restrictionOf, restrictionText } from '../../web/src/moderation.js';
import { Outbox } from '../../web/src/outbox.js';
import { Timeline, type Message } from '../../web/src/timeline.js';
import { webMessage } from '../support/web-message.js';

const message = webMessage;

const refusal = (code: string, extensions: Record<string, unknown> = {}) =>
  new ChatRequestError([{ message: `refused: ${code}`, extensions: { code, ...extensions } }]);

/** An outbox whose sends the test answers one by one, on a clock the test moves. */
function harness() {
  const attempts: Array<{ clientId: string; body: string; resolve(m: Message): void; reject(e: unknown): void }> = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const sent: Message[] = [];
  let ids = 0;
  const outbox = new Outbox({
    send: (input) => new Promise<Message>((resolve, reject) => attempts.push({ ...input, resolve, reject })),
    classify,
    onChange: () => {},
    onSent: (m) => sent.push(m),
    newClientId: () => `client-${++ids}`,
    setTimer: (fn, ms) => timers.push({ fn, ms }),
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { outbox, attempts, timers, sent, settle };
}

describe('web client outbox (optimistic sends)', () => {
  it('repeats a send that failed on the network with the same clientId, after a backoff, until it is stored', async () => {
    const { outbox, attempts, timers, sent, settle } = harness();
    const pending = outbox.enqueue('r1', 'hello');
    expect(outbox.pending('r1')).toEqual([expect.objectContaining({ body: 'hello', state: 'sending' })]);
    attempts[0]!.reject(new NetworkError('down'));
    await settle();
    expect(pending.state).toBe('retrying');
    expect(timers.map((t) => t.ms)).toEqual([500]);
    timers.shift()!.fn();
    attempts[1]!.reject(new NetworkError('still down'));
    await settle();
    expect(timers.map((t) => t.ms)).toEqual([1000]); // doubling
    timers.shift()!.fn();
    attempts[2]!.resolve(message(7, { clientId: pending.clientId }));
    await settle();
    expect(attempts.map((a) => a.clientId)).toEqual(['client-1', 'client-1', 'client-1']);
    expect(outbox.pending('r1')).toEqual([]);
    expect(sent.map((m) => m.seq)).toEqual([7]);
  });

  it('waits retryAfter seconds on RATE_LIMITED, and stops at a refusal, leaving it failed while later messages go on', async () => {
    const { outbox, attempts, timers, settle } = harness();
    const first = outbox.enqueue('r1', 'too fast');
    const second = outbox.enqueue('r1', 'x'.repeat(4001));
    const third = outbox.enqueue('r1', 'fine');
    expect(attempts).toHaveLength(1); // one at a time per room, in the order typed
    attempts[0]!.reject(refusal('RATE_LIMITED', { retryAfter: 3 }));
    await settle();
    expect(timers.map((t) => t.ms)).toEqual([3000]);
    expect(attempts).toHaveLength(1); // the next does not overtake it
    timers.shift()!.fn();
    attempts[1]!.resolve(message(1, { clientId: first.clientId }));
    await settle();
    expect(attempts[2]!.body).toBe(second.body);
    attempts[2]!.reject(refusal('BAD_USER_INPUT'));
    await settle();
    expect(second.state).toBe('failed');
    expect(second.error).toBe('refused: BAD_USER_INPUT');
    expect(attempts[3]!.body).toBe(third.body);
    attempts[3]!.resolve(message(2, { clientId: third.clientId }));
    await settle();
    expect(outbox.pending('r1')).toEqual([second]);
    outbox.retry(second.clientId);
    expect(attempts[4]!.clientId).toBe(second.clientId);
  });

  it('takes a message for stored when it arrives live while its retry waits', async () => {
    const { outbox, attempts, timers, settle } = harness();
    const pending = outbox.enqueue('r1', 'hello');
    attempts[0]!.reject(new NetworkError('the answer was lost, the message was stored'));
    await settle();
    outbox.confirm(message(4, { clientId: pending.clientId }));
    expect(outbox.pending('r1')).toEqual([]);
    timers.shift()!.fn();
    expect(attempts).toHaveLength(1); // nothing more is sent
  });

  it('sorts failures: the network, SERVICE_UNAVAILABLE and RATE_LIMITED pass; refusals are final', () => {
    expect(classify(new NetworkError('x')).retry).toBe(true);
    expect(classify(refusal('SERVICE_UNAVAILABLE')).retry).toBe(true);
    expect(classify(refusal('RATE_LIMITED', { retryAfter: 2 }))).toMatchObject({ retry: true, afterMs: 2000 });
    for (const code of ['BAD_USER_INPUT', 'FORBIDDEN', 'NOT_FOUND', 'UNAUTHENTICATED'])
      expect(classify(refusal(code)).retry).toBe(false);
  });

  it('waits out slow mode by itself, and says why a moderation refusal stops a send', () => {
    const slow = classify(refusal('RATE_LIMITED', { reason: 'SLOW_MODE', retryAfter: 30 }));
    expect(slow).toMatchObject({ retry: true, reason: 'slow mode, waiting' });
    expect(slow.retry && slow.afterMs).toBeGreaterThan(29_000);
    expect(classify(refusal('FORBIDDEN', { reason: 'MUTED', retryAfter: 600 }))).toEqual({
      retry: false,
      reason: 'Not sent: you are muted in this room',
    });
    expect(classify(refusal('FORBIDDEN', { reason: 'ROOM_FROZEN' }))).toEqual({
      retry: false,
      reason: 'Not sent: the room is frozen',
    });
  });
});

describe('web client timeline', () => {
  it('holds each seq once, in order, from pages and live messages alike; edits replace', () => {
    const timeline = new Timeline();
    timeline.addNewest({ messages: [message(4), message(5)], hasPreviousPage: true });
    timeline.add(message(6));
    timeline.add(message(5)); // a replay overlapping the page
    timeline.addOlder({ messages: [message(2), message(3)], hasPreviousPage: true });
    expect(timeline.list().map((m) => m.seq)).toEqual([2, 3, 4, 5, 6]);
    expect(timeline.update(message(3, { body: 'edited', editedAt: new Date().toISOString() }))).toBe(true);
    expect(timeline.list()[1]!.body).toBe('edited');
    expect(timeline.update(message(1))).toBe(false); // not held: left for its page
  });

  it('knows when there is older history: until a page says there is none, or seq 1 is held', () => {
    const timeline = new Timeline();
    timeline.addNewest({ messages: [], hasPreviousPage: false });
    expect(timeline.hasOlder).toBe(false);
    // An empty first page, then live messages from seq 3: 1 and 2 landed before the subscription did.
    timeline.add(message(3));
    expect(timeline.hasOlder).toBe(true);
    timeline.addOlder({ messages: [message(1), message(2)], hasPreviousPage: false });
    expect(timeline.hasOlder).toBe(false);
    expect(timeline.list().map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe('web client moderation rules', () => {
  it('offers actions only on lower ranks: the OWNER on anyone else, nobody below MODERATOR', () => {
    expect(outranks('OWNER', 'ADMIN')).toBe(true);
    expect(outranks('ADMIN', 'MODERATOR')).toBe(true);
    expect(outranks('MODERATOR', 'MEMBER')).toBe(true);
    expect(outranks('MODERATOR', 'MODERATOR')).toBe(false);
    expect(outranks('ADMIN', 'OWNER')).toBe(false);
    expect(outranks('MEMBER', 'MEMBER')).toBe(false);
    expect(outranks(null, 'MEMBER')).toBe(false);
    // A former member (no role any more) ranks lowest.
    expect(outranks('MODERATOR', undefined)).toBe(true);
  });

  it('counts down in words, to the second under an hour', () => {
    expect(remaining(42)).toBe('42 s');
    expect(remaining(599.2)).toBe('10 min');
    expect(remaining(61)).toBe('1 min 1 s');
    expect(remaining(3 * 3600 + 120)).toBe('3 h 2 min');
    expect(remaining(2 * 86400 + 3600)).toBe('2 days 1 h');
  });

  it('explains MUTED and SLOW_MODE with the time left, and the other reasons in plain words', () => {
    const now = 1_000_000;
    const muted = restrictionOf(refusal('FORBIDDEN', { reason: 'MUTED', retryAfter: 90 }), now)!;
    expect(muted).toEqual({ reason: 'MUTED', until: now + 90_000 });
    expect(restrictionText(muted, now)).toBe(
      'A moderator muted you in this room. You can read, but not send, react or type for 1 min 30 s more.',
    );
    expect(restrictionText(muted, now + 60_000)).toContain('for 30 s more');
    const slow = restrictionOf(refusal('RATE_LIMITED', { reason: 'SLOW_MODE', retryAfter: 12 }), now)!;
    expect(restrictionText(slow, now)).toContain('you can send your next message in 12 s');
    expect(describeError(refusal('FORBIDDEN', { reason: 'BLOCKED' }))).toBe(
      'One of you has blocked the other, so you cannot message or invite each other.',
    );
    expect(describeError(refusal('FORBIDDEN', { reason: 'BANNED' }))).toMatch(/^Banned from this room/);
    expect(restrictionOf(refusal('FORBIDDEN'))).toBeNull();
  });
});

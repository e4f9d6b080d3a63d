import { describe, expect, it } from 'vitest';
import { topics } from '../../src/pubsub/topics.js';

const message = {
  id: '6a1f0e52-5a5c-4c39-9a53-0a3f1f1c2b11',
  roomId: '0b7e3c1a-1111-4c39-9a53-0a3f1f1c2b11',
  seq: 3,
  authorId: '9c1f0e52-2222-4c39-9a53-0a3f1f1c2b11',
  body: 'hi',
  clientId: null,
  replyToId: null,
  createdAt: '2026-11-22T23:07:23.123Z',
  editedAt: null,
  deletedAt: null,
};

describe('topics.room payloads', () => {
  const topic = topics.room(message.roomId);

  it('names one channel per room', () => {
    expect(topic.name).toBe(`room:${message.roomId}`);
  });

  it('turns a JSON message event back into a row with dates', () => {
    const parsed = topic.parse(JSON.parse(JSON.stringify({ type: 'message', message })));
    expect(parsed).toEqual({ type: 'message', message: { ...message, createdAt: new Date(message.createdAt) } });
  });

  it('reads member-left events', () => {
    expect(topic.parse({ type: 'member-left', userId: message.authorId })).toEqual({ type: 'member-left', userId: message.authorId });
  });

  it('drops anything malformed instead of passing it to subscribers', () => {
    const bad: unknown[] = [
      null,
      'text',
      42,
      { type: 'message' },
      { type: 'message', message: { ...message, seq: 0 } },
      { type: 'message', message: { ...message, seq: '3' } },
      { type: 'message', message: { ...message, body: 7 } },
      { type: 'message', message: { ...message, createdAt: 'yesterday' } },
      { type: 'message', message: { ...message, editedAt: 5 } },
      { type: 'member-left' },
      { type: 'unknown', userId: 'x' },
    ];
    for (const raw of bad) expect(topic.parse(raw)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { topics } from '../../src/realtime/topics.js';

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
  deletedBy: null,
  threadRootId: null,
  showInRoom: false,
  mentionIds: [],
  mentionRoom: false,
  pinnedAt: null,
  pinnedBy: null,
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

  it('reads member, typing, read and message-changed events', () => {
    const member = { type: 'member', change: 'LEFT', userId: message.authorId };
    expect(topic.parse(member)).toEqual(member);
    const typing = { type: 'typing', userId: message.authorId, typing: false };
    expect(topic.parse(typing)).toEqual(typing);
    const read = { type: 'read', userId: message.authorId, seq: 4 };
    expect(topic.parse(read)).toEqual(read);
    const changed = topic.parse(
      JSON.parse(
        JSON.stringify({ type: 'message-changed', change: 'EDITED', message: { ...message, editedAt: message.createdAt } }),
      ),
    );
    expect(changed).toMatchObject({
      type: 'message-changed',
      change: 'EDITED',
      message: { editedAt: new Date(message.createdAt) },
    });
  });

  it('reads moderation and report events with their audience, and a deleted message with who deleted it', () => {
    const moderation = { type: 'moderation', actionId: message.id, audience: 'moderators' };
    expect(topic.parse(moderation)).toEqual(moderation);
    const report = { type: 'report', reportId: message.id, audience: 'moderators' };
    expect(topic.parse(report)).toEqual(report);
    const deleted = { ...message, deletedAt: message.createdAt, deletedBy: message.authorId };
    expect(topic.parse({ type: 'message-changed', change: 'DELETED', message: deleted })).toMatchObject({
      message: { deletedBy: message.authorId },
    });
  });

  it('reads user events and drops malformed ones', () => {
    const user = topics.user(message.authorId);
    expect(user.name).toBe(`user:${message.authorId}`);
    expect(user.parse({ type: 'room-added', roomId: message.roomId, afterSeq: 3 })).toEqual({
      type: 'room-added',
      roomId: message.roomId,
      afterSeq: 3,
    });
    expect(user.parse({ type: 'room-removed', roomId: message.roomId, reason: 'BANNED' })).toEqual({
      type: 'room-removed',
      roomId: message.roomId,
      reason: 'BANNED',
    });
    // From an instance that predates reasons: a plain leave.
    expect(user.parse({ type: 'room-removed', roomId: message.roomId })).toEqual({
      type: 'room-removed',
      roomId: message.roomId,
      reason: 'LEFT',
    });
    for (const raw of [
      null,
      { type: 'room-removed', roomId: message.roomId, reason: 'EXPLODED' },
      { type: 'room-added', roomId: message.roomId },
      { type: 'room-added', roomId: 5, afterSeq: 1 },
      { type: 'nope', roomId: 'x' },
    ]) {
      expect(user.parse(raw)).toBeNull();
    }
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
      { type: 'member', change: 'LEFT' },
      { type: 'member', change: 'KICKED', userId: 'x' },
      { type: 'typing', userId: 'x', typing: 'yes' },
      { type: 'read', userId: 'x', seq: -1 },
      { type: 'message-changed', change: 'EDITED' },
      { type: 'message-changed', change: 'SHOUTED', message },
      { type: 'message', message: { ...message, deletedBy: 3 } },
      { type: 'moderation', actionId: 'x' },
      { type: 'moderation', actionId: 'x', audience: 'everyone' },
      { type: 'report', reportId: 'x', audience: 'members' },
      { type: 'unknown', userId: 'x' },
    ];
    for (const raw of bad) expect(topic.parse(raw)).toBeNull();
  });
});

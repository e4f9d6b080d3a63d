import type { MessageRow } from '../../src/db/schema.js';

/**
 * A stored message as the store returns it, for unit tests of what carries
 * messages (feeds, the hub, the send queue): a timeline message with no
 * thread, mentions or pin unless `fields` say otherwise.
 */
export function messageRow(fields: Pick<MessageRow, 'roomId' | 'seq'> & Partial<MessageRow>): MessageRow {
  return {
    id: `00000000-0000-4000-8000-${String(fields.seq).padStart(12, '0')}`,
    authorId: '00000000-0000-4000-8000-00000000aaaa',
    body: `message ${fields.seq}`,
    clientId: null,
    replyToId: null,
    createdAt: new Date('2026-12-01T00:00:00.000Z'),
    editedAt: null,
    deletedAt: null,
    deletedBy: null,
    threadRootId: null,
    showInRoom: false,
    mentionIds: [],
    mentionRoom: false,
    pinnedAt: null,
    pinnedBy: null,
    ...fields,
  };
}

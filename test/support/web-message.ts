import type { Message } from '../../web/src/timeline.js';

/** A browser-client timeline message for unit tests: seq `seq` in room r1 by alice, `extra` on top. */
export const webMessage = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  roomId: 'r1',
  seq,
  body: `body ${seq}`,
  clientId: null,
  createdAt: new Date(seq * 1000).toISOString(),
  editedAt: null,
  deletedAt: null,
  deletedBy: null,
  cursor: `c${seq}`,
  author: { id: 'u1', username: 'alice', online: true },
  replyTo: null,
  reactions: [],
  threadRootId: null,
  showInRoom: false,
  thread: null,
  mentionRoom: false,
  mentionsViewer: false,
  pinnedAt: null,
  pinnedBy: null,
  attachments: [],
  ...extra,
});

import type { OutboxEventType } from '../db/schema.js';

/**
 * One event as a feature records it: the type, its room, and the ids its
 * delivery renders (the message and its seq, the member, who acted, the
 * report). Rendering reads the rows at delivery (outbox/payloads.ts).
 */
export type OutboxEvent =
  | {
      type: 'message.sent' | 'message.edited' | 'message.deleted' | 'thread.reply';
      roomId: string;
      messageId: string;
      seq: number;
    }
  /** `userIds`: who this message newly mentions; `room`: it mentions @room. */
  | { type: 'mention'; roomId: string; messageId: string; seq: number; userIds: readonly string[]; room: boolean }
  | { type: 'member.joined' | 'member.left'; roomId: string; userId: string }
  | {
      type: 'member.kicked' | 'member.banned';
      roomId: string;
      userId: string;
      actorId: string;
      reason: string | null;
      /** A ban's end; null: until lifted. */
      expiresAt?: Date | null;
    }
  | { type: 'report.filed'; roomId: string; reportId: string; messageId: string; userId: string };

export type { OutboxEventType };

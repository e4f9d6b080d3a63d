import type { MessageRow } from '../../db/schema.js';
import type { MemberChange, MessageChange, RemovedReason } from '../../realtime/topics.js';
import type { MentionedEvent } from '../mentions/mentions.mappers.js';
import type { ModerationEventPayload } from '../moderation/moderation.mappers.js';
import type { ReportFiledPayload } from '../reports/reports.mappers.js';
import type { ThreadReplyEvent } from '../threads/threads.mappers.js';

export type { MentionedEvent, ModerationEventPayload, ReportFiledPayload, ThreadReplyEvent };

/** What roomEvents and myEvents yield; __typename picks the union member. */
export interface MessageChangedEvent {
  __typename: 'MessageChanged';
  change: MessageChange;
  message: MessageRow;
}
export interface MemberChangedEvent {
  __typename: 'MemberChanged';
  change: MemberChange;
  roomId: string;
  userId: string;
}
export interface TypingChangedEvent {
  __typename: 'TypingChanged';
  roomId: string;
  userId: string;
  typing: boolean;
}
export interface ReadReceiptEvent {
  __typename: 'ReadReceipt';
  roomId: string;
  userId: string;
  seq: number;
}
export type RoomEventPayload =
  MessageChangedEvent | MemberChangedEvent | TypingChangedEvent | ReadReceiptEvent | ModerationEventPayload | ReportFiledPayload;

export interface NewMessageEvent {
  __typename: 'NewMessage';
  message: MessageRow;
}
export interface RoomAddedEvent {
  __typename: 'RoomAdded';
  roomId: string;
}
export interface RoomRemovedEvent {
  __typename: 'RoomRemoved';
  roomId: string;
  reason: RemovedReason;
}
export type UserEventPayload = NewMessageEvent | RoomAddedEvent | RoomRemovedEvent | ThreadReplyEvent | MentionedEvent;

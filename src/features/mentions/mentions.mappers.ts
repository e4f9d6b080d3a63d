import type { MessageRow } from '../../db/schema.js';

/** myEvents' Mentioned. */
export interface MentionedEvent {
  __typename: 'Mentioned';
  message: MessageRow;
}

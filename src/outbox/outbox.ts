import type { Database } from '../db/client.js';
import type { OutboxEvent } from './events.js';
import { OutboxStore } from './outbox.store.js';

/**
 * The transactional outbox as features see it: `record` writes an event in
 * the caller's transaction, so it commits exactly when the change it
 * reports commits (a refused or rolled-back change leaves nothing), and
 * the delivery workers find it even if this instance dies right after.
 * With no webhook endpoint configured nothing is written: `enabled` is
 * false and `record` does nothing.
 */
export interface Outbox {
  readonly enabled: boolean;
  record(tx: Database, event: OutboxEvent): Promise<void>;
  /** A change with events committed on this instance: the worker looks now rather than at its next poll. */
  nudge(): void;
}

export function createOutbox(endpoints: readonly string[]): Outbox & { onNudge(listener: () => void): void } {
  const listeners: Array<() => void> = [];
  const enabled = endpoints.length > 0;
  return {
    enabled,
    record: enabled ? (tx, event) => OutboxStore.record(tx, event, endpoints) : async () => {},
    nudge: () => {
      for (const listener of listeners) listener();
    },
    onNudge: (listener) => void listeners.push(listener),
  };
}

/** Records nothing: for code built without an app's configuration. */
export const noOutbox: Outbox = { enabled: false, record: async () => {}, nudge() {} };

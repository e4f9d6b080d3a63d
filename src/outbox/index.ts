import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createOutbox, type Outbox } from './outbox.js';
import { OutboxStore } from './outbox.store.js';
import type { WebhooksConfig } from './webhooks.config.js';
import { WebhookWorker } from './worker.js';

export { ClaimLoop } from './claim-loop.js';
export type { OutboxEvent } from './events.js';
export type { Outbox } from './outbox.js';
export { OutboxStore, type ClaimedDelivery } from './outbox.store.js';

/**
 * The transactional outbox and this instance's webhook worker. Features
 * record events through `outbox`; the worker (when WEBHOOK_URLS is set and
 * WEBHOOK_WORKER is not false) starts with `start` and ends with `stop`.
 */
export function createWebhooks(
  config: WebhooksConfig,
  deps: { db: Database; logger: Logger; metrics: Metrics },
): { outbox: Outbox; start(): void; stop(): Promise<void> } {
  const outbox = createOutbox(config.urls);
  if (!outbox.enabled) return { outbox, start() {}, stop: async () => {} };
  const store = new OutboxStore(deps.db);
  deps.metrics.watchOutbox(() => store.backlog());
  if (!config.worker) return { outbox, start() {}, stop: async () => {} };
  const worker = new WebhookWorker({ ...deps, store, config });
  outbox.onNudge(() => worker.nudge());
  return { outbox, start: () => worker.start(), stop: () => worker.stop() };
}

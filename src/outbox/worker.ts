import { Webhook } from 'standardwebhooks';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ClaimLoop } from './claim-loop.js';
import { DeliveryRefused, post } from './destination.js';
import { readRenderRows, type ClaimedDelivery, type OutboxStore } from './outbox.store.js';
import { idsToRender, renderPayload } from './payloads.js';
import { retryDelayMs } from './retries.js';
import type { WebhooksConfig } from './webhooks.config.js';

/**
 * Deliveries claimed at once by one worker, POSTed together. A pass is four
 * statements whatever its size (claim, two reads to render, one settle), and
 * under load each waits for a pool connection behind the sends'
 * transactions, so the batch is what the worker delivers per wait: at 10, a
 * server saturated by 32 senders delivered about 30 a second and the backlog
 * grew by the rest (bench/README.md, webhooks). Still bounded, so a slow
 * endpoint holds a bounded number of rows past others' reach.
 */
const BATCH = 50;
/**
 * How long a claim keeps a row from other workers, in attempt timeouts
 * (WEBHOOK_TIMEOUT_MS, 5 s by default: a 15 s lease): well past what an
 * attempt, its rendering and its settling take, so a row is claimed again
 * only once its worker is surely gone.
 */
const LEASE_TIMEOUTS = 3;
/** Delivered events are kept this long (for inspection), then swept in batches of SWEEP_BATCH every SWEEP_MS. */
const KEEP_DELIVERED_MS = 24 * 3600_000;
const SWEEP_MS = 10 * 60_000;
const SWEEP_BATCH = 1000;

/**
 * One instance's webhook deliveries: it claims due rows of the outbox in
 * small batches (every instance runs one; SKIP LOCKED and the lease keep
 * them apart), POSTs each signed per Standard Webhooks, and settles it:
 * delivered on a 2xx; otherwise retried with backoff until the event is
 * WEBHOOK_RETRY_FOR_MS old, then dead-lettered. An endpoint answering 410
 * Gone is not tried again by this instance until it restarts.
 */
export class WebhookWorker {
  private readonly loop: ClaimLoop;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly disabled = new Set<string>();
  private readonly signers: Webhook[];

  constructor(
    private readonly deps: {
      db: Database;
      store: OutboxStore;
      config: WebhooksConfig;
      logger: Logger;
      metrics: Pick<Metrics, 'webhookAttempt'>;
    },
  ) {
    const { secret, previousSecret } = deps.config;
    this.signers = [secret, previousSecret].filter((s): s is string => s !== null).map((s) => new Webhook(s));
    this.loop = new ClaimLoop(
      () => this.pass(),
      deps.config.pollMs,
      (error) => deps.logger.warn('webhook deliveries failed', { error }),
    );
  }

  start(): void {
    this.loop.start();
    // Every instance sweeps; concurrent sweeps delete disjoint or no rows, which is harmless.
    this.sweeper = setInterval(() => {
      void this.deps.store
        .sweepDelivered(KEEP_DELIVERED_MS, SWEEP_BATCH)
        .catch((error: Error) => this.deps.logger.warn('could not sweep delivered webhook events', { error }));
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  /** Looks for due rows now (something committed here), or once the current pass ends. */
  nudge(): void {
    this.loop.nudge();
  }

  /** No new pass starts; one under way finishes (its rows settle, or their leases lapse). */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.loop.stop();
  }

  /** One batch: claimed, rendered, POSTed and settled. True when it was full (more may be due). */
  private async pass(): Promise<boolean> {
    const endpoints = this.deps.config.urls.filter((url) => !this.disabled.has(url));
    const claimed = await this.deps.store.claim(endpoints, BATCH, LEASE_TIMEOUTS * this.deps.config.timeoutMs);
    if (claimed.length === 0) return false;
    const rows = await readRenderRows(this.deps.db, idsToRender(claimed));
    const outcomes = await Promise.all(
      claimed.map((delivery) => this.deliver(delivery, JSON.stringify(renderPayload(delivery, rows)))),
    );
    const delivered = outcomes.filter((outcome) => outcome !== null);
    await this.deps.store.delivered(delivered);
    for (let i = 0; i < delivered.length; i++) this.deps.metrics.webhookAttempt('delivered');
    return claimed.length === BATCH;
  }

  /** One attempt: a failure is settled here (retry or dead letter); a 2xx is answered, for the pass to settle with the others. */
  private async deliver(delivery: ClaimedDelivery, body: string): Promise<{ delivery: ClaimedDelivery; status: string } | null> {
    const { config, store, logger, metrics } = this.deps;
    const url = new URL(delivery.endpoint);
    if (this.disabled.has(delivery.endpoint)) {
      // Disabled while this batch was out: leave it for after a restart, untried.
      await store.failed(delivery, 'endpoint disabled (410)', config.retryBaseMs);
      return null;
    }
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'chat-server-webhooks',
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      // Two during a rotation (the new secret's first): a receiver with either accepts.
      'webhook-signature': this.signers.map((signer) => signer.sign(delivery.eventId, now, body)).join(' '),
    };
    let status: string;
    let code = 0;
    try {
      code = await post(url, { headers, body, timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivate });
      status = String(code);
    } catch (error) {
      if (!(error instanceof DeliveryRefused)) throw error;
      status = error.message;
    }
    if (code >= 200 && code < 300) return { delivery, status };
    if (code === 410) {
      this.disabled.add(delivery.endpoint);
      logger.warn('webhook endpoint answered 410 Gone: disabled until restart', { endpoint: url.origin });
      await store.failed(delivery, status, null);
      metrics.webhookAttempt('dead');
      return null;
    }
    const delay = retryDelayMs(delivery.attempt, config.retryBaseMs);
    const expired = Date.now() + delay - delivery.createdAt.getTime() > config.retryForMs;
    await store.failed(delivery, status, expired ? null : delay);
    metrics.webhookAttempt(expired ? 'dead' : 'failed');
    if (expired) logger.warn('webhook dead-lettered', { event: delivery.eventId, endpoint: url.origin, status });
    else logger.debug('webhook attempt failed', { event: delivery.eventId, attempt: delivery.attempt, status });
    return null;
  }
}

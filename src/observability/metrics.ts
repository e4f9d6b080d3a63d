import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What one statement of the send queue was (features/messages/send-queue.ts). */
export type SendStatementKind = 'single' | 'batch' | 'split';

/** How a subscription reaches its client. */
export type SubscriptionTransport = 'ws' | 'sse' | 'multipart';

/** A backing service's health check (transport/http.ts HealthCheck): rejects when it does not answer in time. */
type Check = (timeoutMs: number) => Promise<void>;

/**
 * What the code counts, one call at each point. Every method is cheap: the
 * hot ones (deliveries) add to plain numbers that are read into the
 * registry at scrape time; labels are looked up once per subscription or
 * error, never per subscriber frame.
 */
export interface Metrics {
  socketOpened(): void;
  socketClosed(): void;
  subscriptionStarted(field: string, transport: SubscriptionTransport): void;
  subscriptionEnded(field: string, transport: SubscriptionTransport): void;
  messageSent(): void;
  /**
   * A send statement committed (or failed): `single` of one message, `batch` of several messages
   * to one room, `split` a batch that failed whole and went again one message per statement.
   */
  sendStatement(kind: SendStatementKind): void;
  /**
   * One group rendering of a live event went to `frames` subscribers; for a
   * message, `sentAt` (its createdAt, ms) times send→deliver once for the rendering.
   */
  delivered(frames: number, sentAt: number | null): void;
  /** Messages a feed read from the database because pub/sub had not brought them. */
  gapFilled(messages: number): void;
  /** A socket closed with 1013: its unsent bytes passed the limit (`buffer`) or its group's backlog did (`backlog`). */
  slowReaderClosed(reason: 'buffer' | 'backlog'): void;
  /** Errors in a result as the client gets them (after masking); no code counts as INTERNAL_SERVER_ERROR. */
  errors(errors: ReadonlyArray<{ readonly extensions?: { readonly [key: string]: unknown } }> | undefined): void;
  /** A request or frame refused by a rate or count limit, by the limit's name. */
  rateLimited(limit: string): void;
  /** A webhook attempt's outcome: delivered, failed (to be retried) or dead (dead-lettered, or the endpoint gone). */
  webhookAttempt(outcome: WebhookOutcome): void;
  /** Where the outbox's backlog is read from at each scrape (the outbox calls it once, when webhooks are on). */
  watchOutbox(read: () => Promise<{ pending: number; oldestPendingSeconds: number; dead: number }>): void;
}

/** What became of one webhook attempt. */
export type WebhookOutcome = 'delivered' | 'failed' | 'dead';

/** Counts nothing: for code built without an app (unit tests) and METRICS=false. */
export const noMetrics: Metrics = {
  socketOpened() {},
  socketClosed() {},
  subscriptionStarted() {},
  subscriptionEnded() {},
  messageSent() {},
  sendStatement() {},
  delivered() {},
  gapFilled() {},
  slowReaderClosed() {},
  errors() {},
  rateLimited() {},
  webhookAttempt() {},
  watchOutbox() {},
};

/** Metrics with the registry /metrics serves (one per app: several apps share a process in tests). */
export interface MetricsRegistry extends Metrics {
  readonly registry: Registry;
}

/** Seconds: a delivery on one instance takes milliseconds; across instances and under load, more. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(health: Record<string, Check>): MetricsRegistry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const sockets = new Gauge({ name: 'chat_ws_open_sockets', help: 'Open WebSocket connections', registers });
  const subscriptions = new Gauge({
    name: 'chat_subscriptions_active',
    help: 'Active subscriptions by root field and transport',
    labelNames: ['field', 'transport'],
    registers,
  });
  const sent = new Counter({
    name: 'chat_messages_sent_total',
    help: 'Messages stored by sendMessage on this instance',
    registers,
  });
  const statements = new Counter({
    name: 'chat_send_statements_total',
    help: 'Send statements: single (one message), batch (several messages to one room), split (a batch sent again one by one)',
    labelNames: ['kind'],
    registers,
  });
  // Added to on the delivery path as a plain number; read into the counter when scraped.
  const counts = { delivered: 0, reported: 0 };
  new Counter({
    name: 'chat_deliveries_total',
    help: 'Frames written to subscribers for live events (shared renderings; catch-up pages not included)',
    registers,
    collect() {
      this.inc(counts.delivered - counts.reported);
      counts.reported = counts.delivered;
    },
  });
  const latency = new Histogram({
    name: 'chat_delivery_latency_seconds',
    help: "From a message's createdAt to its frames being written, observed once per group rendering",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const gaps = new Counter({
    name: 'chat_feed_gap_messages_filled_total',
    help: 'Messages a live feed read from the database because pub/sub did not bring them in time',
    registers,
  });
  const slow = new Counter({
    name: 'chat_slow_reader_closes_total',
    help: 'Sockets closed with 1013 because their client did not keep up',
    labelNames: ['reason'],
    registers,
  });
  const errors = new Counter({
    name: 'chat_graphql_errors_total',
    help: 'GraphQL errors sent, by extensions.code',
    labelNames: ['code'],
    registers,
  });
  const limited = new Counter({
    name: 'chat_rate_limited_total',
    help: 'Refusals by a rate or count limit',
    labelNames: ['limit'],
    registers,
  });
  const webhooks = new Counter({
    name: 'chat_webhook_attempts_total',
    help: 'Webhook POSTs by outcome: delivered (2xx), failed (to be retried), dead (dead-lettered, or 410 Gone)',
    labelNames: ['outcome'],
    registers,
  });
  type Backlog = Awaited<ReturnType<Parameters<Metrics['watchOutbox']>[0]>>;
  let outbox: Parameters<Metrics['watchOutbox']>[0] | null = null;
  // One database read per scrape serves the three gauges below.
  let backlog: Promise<Backlog | null> | null = null;
  const readBacklog = (read: NonNullable<typeof outbox>) => {
    if (!backlog) {
      backlog = read().catch(() => null);
      void backlog.then(() => setImmediate(() => (backlog = null)));
    }
    return backlog;
  };
  for (const [name, help, field] of [
    ['chat_webhook_deliveries_pending', 'Webhook deliveries not yet delivered nor dead-lettered (in the database)', 'pending'],
    [
      'chat_outbox_oldest_pending_seconds',
      'Age of the oldest outbox event with a delivery still pending: alert when it grows',
      'oldestPendingSeconds',
    ],
    ['chat_webhook_dead_letters', 'Webhook deliveries dead-lettered and kept in the database', 'dead'],
  ] as const) {
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        if (!outbox) return;
        const read = await readBacklog(outbox);
        if (read) this.set(read[field]);
      },
    });
  }
  for (const [service, check] of Object.entries(health)) {
    new Gauge({
      name: `chat_${service}_up`,
      help: `1 when ${service} answers a health check within 1 s, else 0 (asked at each scrape)`,
      registers,
      async collect() {
        this.set(
          await check(1000).then(
            () => 1,
            () => 0,
          ),
        );
      },
    });
  }

  return {
    registry,
    socketOpened: () => sockets.inc(),
    socketClosed: () => sockets.dec(),
    subscriptionStarted: (field, transport) => subscriptions.labels(field, transport).inc(),
    subscriptionEnded: (field, transport) => subscriptions.labels(field, transport).dec(),
    messageSent: () => sent.inc(),
    sendStatement: (kind) => statements.labels(kind).inc(),
    delivered(frames, sentAt) {
      if (frames === 0) return;
      counts.delivered += frames;
      if (sentAt !== null) latency.observe(Math.max(0, Date.now() - sentAt) / 1000);
    },
    gapFilled: (messages) => messages > 0 && gaps.inc(messages),
    slowReaderClosed: (reason) => slow.labels(reason).inc(),
    errors(list) {
      if (!list) return;
      for (const error of list) {
        const code = error.extensions?.code;
        errors.labels(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR').inc();
      }
    },
    rateLimited: (limit) => limited.labels(limit).inc(),
    webhookAttempt: (outcome) => webhooks.labels(outcome).inc(),
    watchOutbox(read) {
      outbox = read;
    },
  };
}

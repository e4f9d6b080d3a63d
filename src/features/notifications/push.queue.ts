import type { Redis } from 'ioredis';
import type { Database } from '../../db/client.js';
import type { MessageRow } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import { ClaimLoop, OutboxStore, type ClaimedDelivery } from '../../outbox/index.js';
import type { MessageFields, PreparedWrite } from '../messages/messages.service.js';
import type { PushNotifier } from './push.notifier.js';
import type { PushStore } from './push.store.js';

/** The outbox "endpoint" of Web Push's rows: not a URL, so no webhook worker claims it. */
export const PUSH_QUEUE = 'push:';
/** Rows claimed at once; how long a claim keeps them from other instances (counting a message takes milliseconds). */
const BATCH = 50;
const LEASE_MS = 30_000;
/** An idle queue looks for rows (another instance's, or a retry) this often. */
const POLL_MS = 1000;
/** A message not counted for this long is given up: its push would come too late to matter. */
const GIVE_UP_MS = 10 * 60_000;
const RETRY_MS = 5000;
/** How often each instance asks the database whether anyone has a subscription (and says so in Redis). */
const ANYONE_REFRESH_MS = 10_000;

/**
 * Web Push's way from a commit to PushNotifier.messageCommitted, through
 * the transactional outbox: a send records a row in its own transaction
 * (once anyone has a push subscription; until then a send writes nothing
 * more and keeps its batched statement: whether anyone has is known in the
 * process, and with Redis in a key every instance reads, never asked of the
 * database on a send), and the queue of
 * every instance claims rows (SKIP LOCKED, a lease), counts each message
 * into the windows of the members it notifies, and deletes the rows. A
 * message committed by an instance that dies before counting it is counted
 * by another (once its lease lapses, if it had claimed it). Counting is at
 * least once: an instance that dies between counting and deleting makes
 * the window's count one too high, never a message missed.
 */
export class PushQueue {
  private readonly store: OutboxStore;
  private readonly loop: ClaimLoop;
  /** Someone has registered a subscription (seen here, in Redis or in the database): every send records a row. */
  private anyone = false;
  private refresher: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      db: Database;
      /** Shared by the instances: the "anyone" key. null: one instance, the process knows. */
      redis: Redis | null;
      prefix: string;
      pushStore: PushStore;
      notifier: Pick<PushNotifier, 'messageCommitted'>;
      messages: (ids: string[]) => Promise<MessageRow[]>;
      logger: Logger;
    },
  ) {
    this.store = new OutboxStore(deps.db);
    this.loop = new ClaimLoop(
      () => this.pass(),
      POLL_MS,
      (error) => deps.logger.warn('could not count messages for Web Push', { error }),
    );
  }

  /** sendMessage's part: the row, in the send's transaction, when anyone could be pushed to. */
  async prepareSend(): Promise<PreparedWrite<MessageFields> | null> {
    if (!(await this.anyoneSubscribed())) return null;
    return {
      fields: {},
      inTransaction: (tx, { roomId, id: messageId, seq }) =>
        OutboxStore.record(tx, { type: 'message.sent', roomId, messageId, seq }, [PUSH_QUEUE]),
      announce: () => this.loop.nudge(),
    };
  }

  /** A subscription was registered here: this instance records rows from now on, and (with Redis) every other too. */
  async subscribed(): Promise<void> {
    this.anyone = true;
    await this.deps.redis?.set(this.anyoneKey, '1');
  }

  start(): void {
    this.loop.start();
    // The database is the record: what Redis forgot (a restart keeps nothing) is said again within ANYONE_REFRESH_MS.
    const refresh = () =>
      void this.refreshAnyone().catch((error: Error) =>
        this.deps.logger.warn('could not tell whether anyone has a push subscription', { error }),
      );
    refresh();
    this.refresher = setInterval(refresh, ANYONE_REFRESH_MS);
    this.refresher.unref();
  }

  stop(): Promise<void> {
    if (this.refresher) clearInterval(this.refresher);
    return this.loop.stop();
  }

  private get anyoneKey(): string {
    return `${this.deps.prefix}push:anyone`;
  }

  private async refreshAnyone(): Promise<void> {
    if (await this.deps.pushStore.anySubscriptions()) await this.subscribed();
  }

  /** Known here once true; otherwise Redis is asked (one GET), or without Redis the process's answer stands. */
  private async anyoneSubscribed(): Promise<boolean> {
    if (this.anyone || !this.deps.redis) return this.anyone;
    return (this.anyone = (await this.deps.redis.exists(this.anyoneKey)) === 1);
  }

  private async pass(): Promise<boolean> {
    const claimed = await this.store.claim([PUSH_QUEUE], BATCH, LEASE_MS);
    if (claimed.length === 0) return false;
    const rows = await this.deps.messages(claimed.map((delivery) => delivery.messageId!));
    const byId = new Map(rows.map((row) => [row.id, row]));
    const handled: string[] = [];
    await Promise.all(
      claimed.map(async (delivery) => {
        const message = byId.get(delivery.messageId!);
        try {
          // A message gone since (its room deleted) notifies nobody.
          if (message) await this.deps.notifier.messageCommitted(message);
          handled.push(delivery.eventId);
        } catch (error) {
          await this.failed(delivery, error as Error);
        }
      }),
    );
    await this.store.discard(handled);
    return claimed.length === BATCH;
  }

  private async failed(delivery: ClaimedDelivery, error: Error): Promise<void> {
    if (Date.now() - delivery.createdAt.getTime() > GIVE_UP_MS) {
      this.deps.logger.warn('gave up counting a message for Web Push', { error, message: delivery.messageId });
      await this.store.discard([delivery.eventId]);
      return;
    }
    this.deps.logger.debug('counting a message for Web Push failed; retried', { error });
    await this.store.failed(delivery, 'failed', RETRY_MS);
  }
}

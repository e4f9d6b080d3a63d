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
/** How long a send waits, at most, for Redis to say whether anyone has subscribed (while this instance does not know). */
const ANYONE_WAIT_MS = 25;

/**
 * Web Push's way from a commit to PushNotifier.messageCommitted, through
 * the transactional outbox: a send records a row in its own transaction
 * (once anyone has a push subscription; until then a send writes nothing
 * more and keeps its batched statement. Whether anyone has is known in the
 * process, and with Redis from a key that registrations set and a send
 * reads until the answer is yes; never from the database on a send), and the queue of
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

  /**
   * sendMessage's part: the row, in the send's transaction, when anyone
   * could be pushed to. Until this instance knows someone has subscribed it
   * reads the Redis key (another instance's registration), waiting at most
   * ANYONE_WAIT_MS: a Redis that is slow or gone costs a send that wait and a
   * row, never the send.
   */
  async prepareSend(): Promise<PreparedWrite<MessageFields> | null> {
    if (!this.anyone && !(this.deps.redis && (await this.askRedis()))) return null;
    return {
      fields: {},
      inTransaction: (tx, { roomId, id: messageId, seq }) =>
        OutboxStore.record(tx, { type: 'message.sent', roomId, messageId, seq }, [PUSH_QUEUE]),
      announce: () => this.loop.nudge(),
    };
  }

  /** The key's answer; true when Redis does not answer in time (a row too many costs less than a push missed). */
  private askRedis(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(true), ANYONE_WAIT_MS);
      this.deps.redis!.exists(this.anyoneKey).then(
        (found) => {
          clearTimeout(timer);
          if (found === 1) this.anyone = true;
          resolve(found === 1);
        },
        () => {
          clearTimeout(timer);
          resolve(true);
        },
      );
    });
  }

  /** A subscription was registered here: this instance records rows from now on, and (with Redis) every other soon. */
  subscribed(): void {
    this.anyone = true;
    // Sent before the registration answers (so before any later send elsewhere asks); never waited on: a Redis
    // that is gone costs no registration, and the database's refresh says it again.
    this.deps.redis
      ?.set(this.anyoneKey, '1')
      .catch((error: Error) => this.deps.logger.debug('could not note a push subscription in Redis', { error }));
  }

  start(): void {
    this.loop.start();
    // The database, the record, is read now and then, and says so again in Redis (which a restart empties).
    const ask = (check: () => Promise<void>) =>
      void check().catch((error: Error) =>
        this.deps.logger.debug('could not tell whether anyone has a push subscription', { error }),
      );
    ask(() => this.fromDatabase());
    this.refresher = setInterval(() => ask(() => this.fromDatabase()), ANYONE_REFRESH_MS);
    this.refresher.unref();
  }

  stop(): Promise<void> {
    if (this.refresher) clearInterval(this.refresher);
    return this.loop.stop();
  }

  private get anyoneKey(): string {
    return `${this.deps.prefix}push:anyone`;
  }

  private async fromDatabase(): Promise<void> {
    if (await this.deps.pushStore.anySubscriptions()) this.subscribed();
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

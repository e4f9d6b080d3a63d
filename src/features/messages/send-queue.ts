import { outsideBudget, remainingBudgetMs, withinBudget } from '../../db/budget.js';
import { isUniqueViolation, pgError } from '../../db/errors.js';
import { DeadlineError } from '../../deadline.js';
import { noMetrics, type Metrics } from '../../observability/metrics.js';
import type { InsertOutcome, MessagesStore, NewMessage } from './messages.store.js';

export interface SendQueueOptions {
  /**
   * The most messages one statement commits; more waiting go in the next.
   * @default 256
   */
  maxBatch?: number;
  /** Counts each statement by kind (chat_send_statements_total). */
  metrics?: Pick<Metrics, 'sendStatement'>;
}

/** The store's part the queue uses. */
export type SendStore = Pick<MessagesStore, 'insert' | 'insertMany'>;

interface Waiting {
  input: NewMessage;
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Commits a room's concurrent sends together. Sends to one room serialise on
 * its row lock (that is what keeps seqs gapless and in commit order), so one
 * statement per message caps a busy room at one commit latency per message.
 * Here a room's sends wait while a statement of the room's is in flight on
 * this instance; when it returns, all that waited go as one statement, in
 * arrival order. A send to a quiet room waits only for the rest of the
 * current event loop turn, so sends that arrived together go together (on
 * embedded PGlite, whose statements never leave the event loop, only that
 * gathers anything), and a single one goes as the one-message statement.
 * Each caller gets its own outcome.
 *
 * A batch that fails committed nothing. A clientId repeated on another
 * instance after the batch's snapshot fails it with a unique violation: it is
 * tried once more (a new snapshot sees the repeat). When a batch still fails
 * on what one message might cause (data or constraint errors, SQLSTATE
 * classes 22 and 23), its messages go again one statement each, so each
 * caller gets the answer it would have had alone; any other error (the
 * database unreachable, a timeout) goes to every caller of the batch.
 */
export class SendQueue {
  /** Rooms with sends gathering or a statement in flight, and the sends waiting for it. */
  private readonly rooms = new Map<string, Waiting[]>();
  private readonly maxBatch: number;

  private readonly metrics: Pick<Metrics, 'sendStatement'>;

  constructor(
    private readonly store: SendStore,
    options: SendQueueOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.metrics = options.metrics ?? noMetrics;
  }

  /**
   * The statements run outside the caller's database budget (several
   * callers share one); the caller waits for its outcome no longer than its
   * own budget allows, and one already spent does not queue at all.
   */
  send(input: NewMessage): Promise<InsertOutcome> {
    const left = remainingBudgetMs();
    if (left !== null && left <= 0) return Promise.reject(new DeadlineError('database', 0));
    const outcome = new Promise<InsertOutcome>((resolve, reject) => {
      const waiting = this.rooms.get(input.roomId);
      if (waiting) {
        waiting.push({ input, resolve, reject });
        return;
      }
      this.rooms.set(input.roomId, [{ input, resolve, reject }]);
      outsideBudget(() => setImmediate(() => this.next(input.roomId)));
    });
    return withinBudget(outcome, 'database');
  }

  /** Sends what waits for the room, or forgets the room when nothing does. */
  private next(roomId: string): void {
    const waiting = this.rooms.get(roomId)!;
    if (waiting.length === 0) {
      this.rooms.delete(roomId);
      return;
    }
    const batch = waiting.splice(0, this.maxBatch);
    const next = () => this.next(roomId);
    void this.commit(roomId, batch).then(next, next);
  }

  private async commit(roomId: string, batch: Waiting[]): Promise<void> {
    if (batch.length === 1) return this.commitOne(batch[0]!);
    const inputs = batch.map((w) => w.input);
    let outcomes: InsertOutcome[];
    try {
      outcomes = await this.store.insertMany(roomId, inputs).catch((error: unknown) => {
        if (!isUniqueViolation(error, 'messages_client_id_key')) throw error;
        return this.store.insertMany(roomId, inputs);
      });
    } catch (error) {
      if (!mightBeOneMessages(error)) {
        for (const w of batch) w.reject(error);
        return;
      }
      this.metrics.sendStatement('split');
      for (const w of batch) await this.commitOne(w);
      return;
    }
    this.metrics.sendStatement('batch');
    batch.forEach((w, i) => w.resolve(outcomes[i]!));
  }

  private async commitOne(w: Waiting): Promise<void> {
    this.metrics.sendStatement('single');
    await this.store.insert(w.input).then(w.resolve, w.reject);
  }
}

/** Data exceptions and constraint violations: what one message of a batch can cause. */
function mightBeOneMessages(error: unknown): boolean {
  const code = pgError(error)?.code;
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}

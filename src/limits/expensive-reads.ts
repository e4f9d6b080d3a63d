import { remainingBudgetMs } from '../db/budget.js';
import { Gate, GateTimeoutError } from '../db/gate.js';
import { DeadlineError } from '../deadline.js';
import { serviceUnavailable } from '../errors.js';

const busy = () => serviceUnavailable('The server is busy with other searches and long pages; try again in a moment', 1);

/**
 * Expensive reads (searches, large history pages) take their turn here
 * before they ask the database: at most `concurrency` run at once on this
 * instance, so a burst of them (30 aliased searches in one request) holds
 * that many pool connections and leaves the rest to everyone else (issue 19,
 * finding 1). A read waits no longer than its operation's budget and is then
 * refused with SERVICE_UNAVAILABLE and a retryAfter; nothing about that
 * counts against the database's breaker.
 */
export class ExpensiveReads {
  private readonly gate: Gate;

  /** @param waitMs The longest wait of a read outside any operation's budget. */
  constructor(
    concurrency: number,
    private readonly waitMs: number,
  ) {
    this.gate = new Gate(concurrency, 'database');
  }

  async run<T>(read: () => Promise<T>): Promise<T> {
    let release: () => void;
    try {
      release = await this.gate.acquire(remainingBudgetMs() ?? this.waitMs);
    } catch (error) {
      if (error instanceof GateTimeoutError) throw busy();
      throw error;
    }
    try {
      return await read();
    } catch (error) {
      // Its turn came with too little of the budget left: the same answer.
      const left = remainingBudgetMs();
      if (error instanceof DeadlineError && left !== null && left <= 0) throw busy();
      throw error;
    } finally {
      release();
    }
  }
}

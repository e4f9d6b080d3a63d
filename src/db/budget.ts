import { AsyncLocalStorage } from 'node:async_hooks';
import { withDeadline } from '../deadline.js';

/**
 * One operation's time for all its database calls. Without it every call had
 * a deadline of its own, so a request of four calls against a silent
 * database answered after up to four deadlines (issue 19, finding 9); under
 * a budget each call gets what is left of the operation's, and the answer
 * comes within one.
 *
 * A budget ends when its operation has answered (or, for a subscription, has
 * been set up): work the operation started and left running, such as a
 * publish after a commit, or the events of a subscription later, is no
 * longer bound by it and has each call's own deadline again.
 */
class DatabaseBudget {
  private ended = false;

  constructor(private readonly deadlineAt: number) {}

  /** Milliseconds left (may be ≤ 0), or null once the operation has answered. */
  remainingMs(): number | null {
    return this.ended ? null : this.deadlineAt - Date.now();
  }

  end(): void {
    this.ended = true;
  }
}

const current = new AsyncLocalStorage<DatabaseBudget>();

/** Runs `operation` with `ms` for all the database calls it makes until it settles. */
export function withDatabaseBudget<T>(ms: number, operation: () => T | Promise<T>): Promise<T> {
  const budget = new DatabaseBudget(Date.now() + ms);
  return current.run(budget, async () => {
    try {
      return await operation();
    } finally {
      budget.end();
    }
  });
}

/** What is left of the calling operation's budget, in ms; null outside one (the call's own deadline applies). */
export function remainingBudgetMs(): number | null {
  return current.getStore()?.remainingMs() ?? null;
}

/**
 * Runs `work` outside any operation's budget: for work shared by several
 * operations (a batch of sends), which must not end with the first one's
 * budget. Each operation still waits no longer than its own (`withinBudget`).
 */
export function outsideBudget<T>(work: () => T): T {
  return current.exit(work);
}

/**
 * Waits for `work` (done outside the budget, see outsideBudget) no longer
 * than the calling operation's budget allows: DeadlineError past it.
 */
export function withinBudget<T>(work: Promise<T>, service: string): Promise<T> {
  const remaining = remainingBudgetMs();
  if (remaining === null) return work;
  return withDeadline(work, Math.max(0, remaining), service);
}

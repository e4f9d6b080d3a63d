import { DeadlineError, withDeadline } from '../deadline.js';
import { remainingBudgetMs } from './budget.js';
import { isUnavailableError } from './errors.js';
import { Gate } from './gate.js';

/** The circuit is open: the service failed repeatedly and is not asked until a probe answers. */
export class CircuitOpenError extends Error {
  constructor(readonly service: string) {
    super(`${service} is unavailable; not asked until it answers a probe again`);
    this.name = 'CircuitOpenError';
  }
}

/** closed: calls go through. open: calls are refused at once. probing: one probe is out, calls still refused. */
export type CircuitState = 'closed' | 'open' | 'probing';

export interface CircuitBreakerOptions {
  /** The name errors and /healthz use ("database"). */
  service: string;
  /** Every call's deadline (ms): one that does not settle by then fails with DeadlineError. */
  deadlineMs: number;
  /**
   * Calls in flight at once (the connection pool's size): the rest wait for a
   * turn here, where waiting is measured apart from answering.
   * @default unlimited
   */
  concurrency?: number;
  /**
   * A call that found the service silent for less than this long (ms) was cut
   * short by its operation's budget, not by the service: it is no evidence
   * of an outage.
   * @default the smaller of 1000 and deadlineMs
   */
  evidenceMs?: number;
  /**
   * Consecutive calls failing as "unavailable" (connection errors, deadlines) that open the circuit.
   * @default 3
   */
  threshold?: number;
  /**
   * While open, a probe goes out this long after the last one failed (ms).
   * @default 1000
   */
  probeIntervalMs?: number;
  /** A trivial call to the service, bypassing the breaker: the circuit closes once it answers within the deadline. */
  probe: () => PromiseLike<unknown>;
  onChange?: (state: 'open' | 'closed') => void;
}

/**
 * Fail fast while a backing service is out. Every call gets a deadline: its
 * own, or what is left of its operation's budget (budget.ts) when that is
 * shorter. After `threshold` consecutive calls failed because the service
 * could not be reached (or did not answer in time), the circuit opens and
 * calls fail at once with CircuitOpenError instead of each waiting for its
 * deadline.
 *
 * Only the service's own silence counts. A call first waits for a turn at
 * the gate (one per pool connection); a call whose time runs out there fails
 * with GateTimeoutError (still SERVICE_UNAVAILABLE for its caller) but says
 * nothing about the service: a burst of expensive queries filling the pool
 * must not read as an outage and take the instance out of service (issue
 * 19, finding 1). Once in flight, a call cut by its deadline counts only if
 * it had at least evidenceMs of the service's time.
 * While open, the breaker probes the service by itself every
 * probeIntervalMs (no client call is spent as a trial, and recovery does not
 * wait for traffic), and closes when a probe answers. Errors that say the
 * query was wrong (a constraint, a syntax error, a statement timeout) are
 * answers, and count as success.
 */
export class CircuitBreaker {
  private failures = 0;
  private current: CircuitState = 'closed';
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly threshold: number;
  private readonly probeIntervalMs: number;
  private readonly evidenceMs: number;
  private readonly gate: Gate | null;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.threshold = options.threshold ?? 3;
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
    this.evidenceMs = options.evidenceMs ?? Math.min(1000, options.deadlineMs);
    this.gate = options.concurrency ? new Gate(options.concurrency, options.service) : null;
  }

  /** Calls in flight and calls waiting for a turn. */
  get load(): { holding: number; waiting: number } {
    return this.gate?.load ?? { holding: 0, waiting: 0 };
  }

  get state(): CircuitState {
    return this.current;
  }

  get deadlineMs(): number {
    return this.options.deadlineMs;
  }

  /**
   * Runs `work` when a turn is free, under the deadline (or a shorter one,
   * or what is left of the operation's budget), unless the circuit is open.
   * The turn is held until `work` settles, past its deadline if need be: the
   * connection is busy until then.
   */
  async run<T>(work: () => PromiseLike<T>, deadlineMs = this.options.deadlineMs): Promise<T> {
    if (this.current !== 'closed') throw new CircuitOpenError(this.options.service);
    const { service } = this.options;
    const budget = remainingBudgetMs();
    const allowed = Math.min(deadlineMs, this.options.deadlineMs, budget ?? Infinity);
    if (allowed <= 0) throw new DeadlineError(service, 0);
    const waitStarted = Date.now();
    const release = this.gate ? await this.gate.acquire(allowed) : () => {};
    const inFlightMs = allowed - (Date.now() - waitStarted);
    if (inFlightMs <= 0) {
      release();
      throw new DeadlineError(service, allowed);
    }
    let call: Promise<T>;
    try {
      call = Promise.resolve(work());
    } catch (error) {
      release();
      throw error;
    }
    call.then(release, release);
    try {
      const result = await withDeadline(call, inFlightMs, service);
      this.failures = 0;
      return result;
    } catch (error) {
      if (!isUnavailableError(error)) this.failures = 0;
      else if (!(error instanceof DeadlineError) || inFlightMs >= this.evidenceMs) this.failed();
      throw error;
    }
  }

  /** No more probes (the pool is closing). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private failed(): void {
    this.failures += 1;
    if (this.current !== 'closed' || this.failures < this.threshold) return;
    this.current = 'open';
    this.options.onChange?.('open');
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), this.probeIntervalMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    this.timer = null;
    this.current = 'probing';
    try {
      await withDeadline(this.options.probe(), this.options.deadlineMs, this.options.service);
    } catch {
      this.current = 'open';
      return this.scheduleProbe();
    }
    this.current = 'closed';
    this.failures = 0;
    if (!this.stopped) this.options.onChange?.('closed');
  }
}

import { withDeadline } from '../deadline.js';
import { isUnavailableError } from './errors.js';

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
 * Fail fast while a backing service is out. Every call gets a deadline;
 * after `threshold` consecutive calls failed because the service could not
 * be reached (or did not answer in time), the circuit opens and calls fail
 * at once with CircuitOpenError instead of each waiting for its deadline.
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

  constructor(private readonly options: CircuitBreakerOptions) {
    this.threshold = options.threshold ?? 3;
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
  }

  get state(): CircuitState {
    return this.current;
  }

  get deadlineMs(): number {
    return this.options.deadlineMs;
  }

  /** Runs `work` under the deadline (or a shorter one), unless the circuit is open. */
  async run<T>(work: () => PromiseLike<T>, deadlineMs = this.options.deadlineMs): Promise<T> {
    if (this.current !== 'closed') throw new CircuitOpenError(this.options.service);
    try {
      const result = await withDeadline(work(), Math.min(deadlineMs, this.options.deadlineMs), this.options.service);
      this.failures = 0;
      return result;
    } catch (error) {
      if (isUnavailableError(error)) this.failed();
      else this.failures = 0;
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

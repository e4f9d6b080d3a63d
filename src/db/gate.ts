import { DeadlineError } from '../deadline.js';

/** Waited for a turn at the gate past the time the caller had: the service is busy, not unreachable. */
export class GateTimeoutError extends DeadlineError {
  constructor(service: string, ms: number) {
    super(service, ms);
    this.name = 'GateTimeoutError';
  }
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/**
 * A counting semaphore: at most `size` holders at a time, the rest waiting
 * in arrival order, each no longer than it may. Release is idempotent.
 */
export class Gate {
  private holders = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly size: number,
    private readonly service: string,
  ) {}

  /** Callers holding a turn now, and callers waiting for one. */
  get load(): { holding: number; waiting: number } {
    return { holding: this.holders, waiting: this.waiting.length };
  }

  /** A turn, as the function that gives it back; GateTimeoutError when none came within `timeoutMs`. */
  acquire(timeoutMs: number): Promise<() => void> {
    if (this.holders < this.size) {
      this.holders += 1;
      return Promise.resolve(this.releaser());
    }
    if (timeoutMs <= 0) return Promise.reject(new GateTimeoutError(this.service, 0));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve(this.releaser());
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(new GateTimeoutError(this.service, timeoutMs));
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.waiting.push(waiter);
    });
  }

  /** Runs `work` in a turn, waiting at most `timeoutMs` for it; the turn is given back when `work` settles. */
  async run<T>(timeoutMs: number, work: () => PromiseLike<T> | T): Promise<T> {
    const release = await this.acquire(timeoutMs);
    try {
      return await work();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The turn passes straight to the next waiter: the count stays the same.
      if (next) next.grant();
      else this.holders -= 1;
    };
  }
}

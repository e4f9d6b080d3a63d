/**
 * The rhythm of an outbox consumer: one pass at a time, the next one at
 * once when the last was full or something was committed meanwhile
 * (`nudge`), otherwise after `pollMs`. A pass that throws is logged by
 * `onError` and the loop goes on; `stop` lets a pass under way finish.
 */
export class ClaimLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    /** One batch: true when it was full (more may be due). */
    private readonly pass: () => Promise<boolean>,
    private readonly pollMs: number,
    private readonly onError: (error: Error) => void,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Looks for due rows now (something committed here), or once the current pass ends. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** No new pass starts; one under way finishes (its rows settle, or their leases lapse). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass()
        .catch((error: Error) => {
          this.onError(error);
          return false;
        })
        .then((full) => {
          this.running = null;
          const soon = full || this.again;
          this.again = false;
          this.schedule(soon ? 0 : this.pollMs);
        });
    }, ms);
    this.timer.unref();
  }
}

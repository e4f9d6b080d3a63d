/** A socket counted against its client IP until it authenticates or closes. */
export interface PendingSlot {
  release(): void;
}

/**
 * Sockets of each client IP that have not authenticated yet, on this
 * instance. Until its connection_init is answered, a socket holds an
 * upgrade, a session and a timer for as long as the init timeout, and nobody
 * behind it is known, so the per-user cap cannot apply: one address could
 * otherwise hold thousands of them. Counted in this process only: such a
 * socket lives on one instance, and the count must cost nothing at the
 * upgrade (no Redis round trip while the request waits).
 */
export class PendingSockets {
  private readonly perIp = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Whether one more socket of this IP may be upgraded. */
  admits(ip: string): boolean {
    return (this.perIp.get(ip) ?? 0) < this.max;
  }

  /** Counts one more socket of this IP until its slot is released (once, whoever releases it first). */
  take(ip: string): PendingSlot {
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left > 0) this.perIp.set(ip, left);
        else this.perIp.delete(ip);
      },
    };
  }
}

import type { Metrics } from '../observability/metrics.js';
import type { LiveSource } from '../realtime/live.js';
import type { Binding, EndReason } from '../realtime/members.js';
import type { SocketSession } from './ws-session.js';

/**
 * Frames written to a socket in one turn of the event loop go out in one
 * write (the socket is corked until the turn ends): when a room is busy, a
 * socket gets several events per write instead of a syscall per event.
 */
export class WriteBatcher {
  private readonly held: SocketSession[] = [];
  private scheduled = false;

  hold(session: SocketSession): void {
    session.hold();
    this.held.push(session);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    for (const session of this.held.splice(0)) session.release();
  }
}

/**
 * One live operation of a socket, as its source's binding: a class, so the
 * many idle subscriptions of a server share their methods instead of each
 * holding closures of its own.
 */
export class LiveOperation implements Binding<string> {
  /** `{"id":…,"type":"next","payload":`: all a frame has of its own besides the shared rendering. */
  private readonly prefix: string;

  readonly source: LiveSource<unknown>;
  readonly key: string;
  /** The root field, as the active-subscriptions gauge names it. */
  private readonly field: string;

  constructor(
    private readonly session: SocketSession,
    readonly id: string,
    prepared: { source: LiveSource<unknown>; key: string; field: string },
    private readonly metrics: Metrics,
  ) {
    this.source = prepared.source;
    this.key = prepared.key;
    this.field = prepared.field;
    this.prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    metrics.subscriptionStarted(prepared.field, 'ws');
  }

  write(out: string): void {
    this.session.send(this.prefix + out + '}');
  }

  /** Called once: a source ends its binding once (members.ts). */
  end(reason: EndReason): void {
    this.metrics.subscriptionEnded(this.field, 'ws');
    this.session.ended(this, reason);
  }
}

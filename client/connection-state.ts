/** Why the socket went away. */
export interface DisconnectReason {
  /**
   * The WebSocket close code: 1001 the server is stopping, 1006 the
   * connection was lost (or never made), 1013 the socket fell too far behind,
   * 4403 the token was refused ("Token expired" at its exp), 4499 the client
   * terminated it, … null when the socket failed with no close event.
   */
  readonly code: number | null;
  /** The close reason the server gave, or what failed ("connect ECONNREFUSED …"). */
  readonly message: string;
}

/**
 * Where the chat client's socket is. The kit opens its socket when the first
 * subscription or socket request starts and closes it when the last one ends
 * (graphql-ws's lazy mode), so a client with nothing running is `idle`.
 */
export type ConnectionState =
  | { readonly status: 'idle' }
  /** The first socket is opening. */
  | { readonly status: 'connecting' }
  /** The server acknowledged the socket: subscriptions deliver. */
  | { readonly status: 'live' }
  /**
   * The socket was lost and the kit is retrying (`attempt` 1, 2, … since it
   * was last live). messageAdded subscriptions resume once it is live again.
   * A 4403 that repeats means the token is no longer accepted: sign in again.
   */
  | { readonly status: 'reconnecting'; readonly reason: DisconnectReason; readonly attempt: number }
  /**
   * The kit stopped: disposed (reason null), retries spent, or a close code
   * that retrying cannot fix (graphql-ws's fatal codes: 4400, 4401, 4500, …).
   * Open subscriptions have ended with an error; a new one connects again.
   */
  | { readonly status: 'closed'; readonly reason: DisconnectReason | null };

export type ConnectionStateListener = (state: ConnectionState) => void;

function errorMessage(error: unknown): string | null {
  const { message, error: inner } = (error ?? {}) as { message?: unknown; error?: { message?: unknown } };
  if (typeof message === 'string' && message) return message; // an Error, or ws's ErrorEvent
  if (typeof inner?.message === 'string' && inner.message) return inner.message;
  return null;
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number';
}

/**
 * Follows graphql-ws's client events and turns them into ConnectionStates.
 * graphql-ws decides after a close whether to retry; the chat client reports
 * that decision here (`retrying` from its shouldRetry, `gaveUp` from an
 * operation failing for want of a socket), since the close event alone cannot
 * tell a retry from the end.
 */
export class ConnectionStateTracker {
  private current: ConnectionState = { status: 'idle' };
  private readonly listeners = new Set<ConnectionStateListener>();
  /** What ended the newest socket, gathered from its error and close events. */
  private lost: DisconnectReason | null = null;
  /** Sockets lost since the last live one; whether the newest one is counted. */
  private attempts = 0;
  private counted = false;
  /** Subscriptions and socket requests running: none means the socket is closed on purpose. */
  private active = 0;
  private disposed = false;

  get state(): ConnectionState {
    return this.current;
  }

  onChange(listener: ConnectionStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A socket starts opening; `isRetry` after a lost one. */
  connecting(isRetry: boolean): void {
    this.lost = null;
    this.counted = false;
    if (!isRetry) this.set({ status: 'connecting' });
    else if (this.current.status !== 'reconnecting') this.retrying();
  }

  connected(): void {
    this.attempts = 0;
    this.set({ status: 'live' });
  }

  error(error: unknown): void {
    this.lost = { code: this.lost?.code ?? null, message: errorMessage(error) ?? this.lost?.message ?? 'The socket failed' };
  }

  closed(event: unknown): void {
    if (this.disposed) return;
    const { code, reason } = isCloseEvent(event) ? event : { code: null, reason: '' };
    this.lost = { code, message: reason || this.lost?.message || (code === null ? 'The socket closed' : `Closed with ${code}`) };
    if (code === 1000 && this.active === 0) return this.set({ status: 'idle' }); // the last operation ended
    // graphql-ws decides in the promise callbacks that follow this event: by
    // then `retrying` or `gaveUp` has run. Otherwise (a 1000 from the server
    // while operations run) it retries without asking.
    setTimeout(() => {
      if (this.current.status === 'live' || this.current.status === 'connecting') {
        if (this.active > 0) this.retrying();
        else this.set({ status: 'idle' });
      }
    }, 0);
  }

  /** graphql-ws will open another socket. */
  retrying(): void {
    if (!this.counted) {
      this.counted = true;
      this.attempts++;
    }
    const reason = this.lost ?? { code: null, message: 'The socket was lost' };
    this.set({ status: 'reconnecting', reason, attempt: Math.max(1, this.attempts) });
  }

  /** An operation failed for want of a socket: graphql-ws stopped retrying. */
  gaveUp(error: unknown): void {
    if (this.current.status === 'closed') return;
    const reason = isCloseEvent(error)
      ? { code: error.code, message: error.reason || this.lost?.message || `Closed with ${error.code}` }
      : (this.lost ?? { code: null, message: errorMessage(error) ?? 'The socket failed' });
    this.set({ status: 'closed', reason });
  }

  operationStarted(): void {
    this.active++;
  }

  operationEnded(): void {
    this.active--;
    // graphql-ws abandons a pending retry once nothing needs the socket, without an event.
    if (this.active === 0 && this.current.status === 'reconnecting') this.set({ status: 'idle' });
  }

  dispose(): void {
    this.disposed = true;
    this.set({ status: 'closed', reason: null });
  }

  private set(state: ConnectionState): void {
    if (this.disposed && state.status !== 'closed') return;
    // graphql-ws reports one lost socket once per operation: tell listeners once.
    if (JSON.stringify(state) === JSON.stringify(this.current)) return;
    this.current = state;
    for (const listener of [...this.listeners]) listener(state);
  }
}

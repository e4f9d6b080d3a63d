/** A token, or a function that gives the current one (called on every connect). */
export type TokenSource = string | null | (() => string | null | Promise<string | null>);

export async function currentToken(source: TokenSource | undefined): Promise<string | null> {
  return typeof source === 'function' ? source() : (source ?? null);
}

/**
 * The `exp` of a JWT in milliseconds since the epoch, read from its payload
 * without verifying it (the server verifies; the client only needs to know
 * when to refresh). null when the token is not a JWT or carries no exp.
 */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

export interface TokenRefresherOptions {
  /** The token in use now. */
  getToken(): string | null;
  /** Exchanges the current token for a fresh one (the kit's `refreshToken()` runs the refreshToken mutation). */
  refresh(): Promise<string>;
  /** Stores the fresh token; the next connect's `getToken` should return it. */
  onToken(token: string): void;
  /** Refresh this long before exp, or at half the remaining lifetime when that is shorter. @default 60_000 */
  leewayMs?: number;
  /** A refresh failed; another is tried at the next interval until exp. @default ignores it */
  onError?(error: unknown): void;
  /** @default Date.now */
  now?(): number;
}

export interface TokenRefresher {
  stop(): void;
}

/** The delay after which a token expiring at `expiresAt` should be refreshed. */
export function refreshDelay(expiresAt: number, now: number, leewayMs: number): number {
  const remaining = expiresAt - now;
  return Math.max(0, remaining - Math.min(leewayMs, remaining / 2));
}

/**
 * Calls `refresh` before the current token's exp, stores what it returns, and
 * schedules the next refresh from the new token's exp. A token without exp is
 * left alone. A refresh that does not move exp later means the session has
 * reached its end (the server's SESSION_MAX_AGE): no more are tried, and at
 * that exp the server closes the socket with 4403, so the app signs in again.
 */
export function startTokenRefresher(options: TokenRefresherOptions): TokenRefresher {
  const leewayMs = options.leewayMs ?? 60_000;
  const now = () => (options.now ? options.now() : Date.now());
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const schedule = (minimumMs = 0) => {
    const token = options.getToken();
    const expiresAt = token && tokenExpiry(token);
    if (stopped || !expiresAt || expiresAt <= now()) return;
    timer = setTimeout(() => void run(), Math.max(minimumMs, refreshDelay(expiresAt, now(), leewayMs)));
  };
  const run = async () => {
    try {
      const previous = options.getToken();
      const token = await options.refresh();
      if (!stopped) options.onToken(token);
      const [before, after] = [previous && tokenExpiry(previous), tokenExpiry(token)];
      if (before && after && after <= before) return;
      schedule();
    } catch (error) {
      options.onError?.(error);
      schedule(1_000); // not in a tight loop as exp nears
    }
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

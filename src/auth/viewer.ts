import { unauthenticated } from '../errors.js';

/** Who is asking: established once per HTTP request or WebSocket connection. */
export interface Viewer {
  readonly userId: string;
  /** When the session began (seconds since the epoch; TokenCheck.signedInAt): refreshToken keeps it. */
  readonly signedInAt?: number | null;
}

/**
 * The viewer, or UNAUTHENTICATED with reason TOKEN_MISSING: a request that
 * carries a bad or expired token never gets this far (the context refuses it
 * with its own reason, and a socket is closed with 4403).
 */
export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated('Sign in first: send a token in the Authorization header', 'TOKEN_MISSING');
  return viewer;
}

import { unauthenticated } from '../errors.js';

/** Who is asking: established once per HTTP request or WebSocket connection. */
export interface Viewer {
  readonly userId: string;
}

export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated();
  return viewer;
}

/**
 * The open room in the page's address, `#room=<id>`: where a notification's
 * click sends the site's tab (the server's PushPayload.url, and the service
 * worker's navigate), and what a reload keeps. The page opens the room it
 * names on load and whenever it changes (hashchange).
 */

/** The room id of an address's fragment (`#room=<id>`), if it names one. */
export function roomIdFromHash(hash: string): string | null {
  const match = /^#room=([^&#]+)$/.exec(hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!) || null;
  } catch {
    return null;
  }
}

export const roomHash = (roomId: string): string => `#room=${encodeURIComponent(roomId)}`;

export class RoomLink {
  private readonly onHashChange = () => {
    const roomId = roomIdFromHash(location.hash);
    if (roomId) this.onRoom(roomId);
  };

  /** onRoom: the address came to name a room (a notification's click, a link, the user). */
  constructor(private readonly onRoom: (roomId: string) => void) {
    addEventListener('hashchange', this.onHashChange);
  }

  /** The room the address names now, if any. */
  current(): string | null {
    return roomIdFromHash(location.hash);
  }

  /**
   * Puts the open room in the address (null: none), replacing the history
   * entry: opening rooms adds no Back steps, and no hashchange follows.
   */
  show(roomId: string | null): void {
    // With none, an address that names no room (the skip link's #composer) stays as it is.
    if (roomId === null && this.current() === null) return;
    const hash = roomId === null ? '' : roomHash(roomId);
    if (location.hash === hash) return;
    history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
  }

  dispose(): void {
    removeEventListener('hashchange', this.onHashChange);
  }
}

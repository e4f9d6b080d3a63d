import type { ChatState } from './state.js';
import type { ChatTransport } from './transport.js';

/** Messages arriving together (a page, a burst) are marked read once, this long after the first. */
const SETTLE_MS = 300;

/**
 * Marks the open room read up to its newest message, once things settle, when
 * the page is in view: its unread count drops at once, and the server's
 * answer (the read position it stored) replaces it.
 */
export class ReadMarker {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly options: {
      state: ChatState;
      transport: ChatTransport;
      /** The room list's unread counts changed. */
      onChange(): void;
    },
  ) {}

  schedule(): void {
    if (this.timer || !this.options.state.open) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.mark();
    }, SETTLE_MS);
  }

  private mark(): void {
    const { state, transport } = this.options;
    const room = state.openEntry();
    const newest = state.open?.timeline.newest;
    if (!room || !newest || document.visibilityState !== 'visible') return;
    if (room.unreadCount === 0 && (room.lastReadSeq ?? 0) >= newest.seq) return;
    state.setRoom({ ...room, unreadCount: 0 });
    this.options.onChange();
    void transport
      .markRead(room.id, newest.seq)
      .then((read) => {
        state.updateRoom(read);
        this.options.onChange();
      })
      .catch(() => {});
  }
}

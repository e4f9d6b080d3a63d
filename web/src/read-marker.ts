import type { ChatState, OpenRoom } from './state.js';
import type { ChatTransport } from './transport.js';

/** Messages arriving together (a page, a burst) are marked read once, this long after the first. */
const SETTLE_MS = 300;

/**
 * Marks the open room read up to its newest message, once things settle, when
 * the page is in view: its unread count drops at once, and the server's
 * answer (the read position it stored) replaces it. A mark belongs to the room
 * that was open when it was asked for: switching rooms within the settle time
 * still marks what was read in the one left, and the new one gets its own.
 */
export class ReadMarker {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly options: {
      state: ChatState;
      transport: ChatTransport;
      /** The room list's unread counts changed. */
      onChange(): void;
    },
  ) {}

  schedule(): void {
    const open = this.options.state.open;
    if (!open || this.timers.has(open.id)) return;
    this.timers.set(
      open.id,
      setTimeout(() => {
        this.timers.delete(open.id);
        this.mark(open);
      }, SETTLE_MS),
    );
  }

  private mark(open: OpenRoom): void {
    const { state, transport } = this.options;
    const room = state.room(open.id);
    const newest = open.timeline.newest;
    if (!room || !newest || document.visibilityState !== 'visible') return;
    if (room.unreadCount === 0 && (room.lastReadSeq ?? 0) >= newest.seq) return;
    // Left meanwhile: the count of what was read there drops when the server answers.
    if (state.open === open) {
      state.setRoom({ ...room, unreadCount: 0 });
      this.options.onChange();
    }
    const ticket = state.askCounts(room.id);
    void transport
      .markRead(room.id, newest.seq)
      .then((read) => {
        // The server counts what came after newest.seq, which the open room's live messages bring
        // (and mark read) next: while it is being read its count stays 0, as it was just set.
        const reading = state.open === open && document.visibilityState === 'visible';
        state.applyCounts(ticket, reading ? { ...read, unreadCount: 0 } : read);
        this.options.onChange();
      })
      .catch(() => {});
  }
}

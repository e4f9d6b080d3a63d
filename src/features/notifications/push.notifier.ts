import type { Clock } from '../../clock.js';
import type { MessageRow } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import type { Presence } from '../../realtime/presence.js';
import type { PushSender } from './push.sender.js';
import type { PushStore } from './push.store.js';
import type { PushWindows, WindowEntry } from './push.windows.js';

/** Characters of the newest message a push shows. */
export const PREVIEW_CHARS = 100;

/** What a push carries (JSON): the service worker shows it and opens `url` on a click. */
export interface PushPayload {
  roomId: string;
  roomName: string | null;
  /** Messages that notified the member in this room during the window. */
  count: number;
  preview: { author: string; body: string };
  /** Where the browser client opens the room. */
  url: string;
}

/**
 * Web Push for members who are not connected. Each committed message is
 * handed to `messageCommitted` (today by the messages flow after its
 * commit; the outbox's worker may call it instead). It asks the database
 * whom the message notifies (level, mute, blocks: PushStore.recipients),
 * keeps those with no socket on any instance, and counts the message into
 * each one's window for the room. The first message opens the window; at
 * its end (`batchMs`) one push carries the count and the newest message,
 * provided the member is still not connected and has been gone `offlineMs`
 * (when not yet, the push waits until they have). A push service's 404 or
 * 410 drops that subscription.
 *
 * Durability: the window's timer lives in the process that opened it. An
 * instance that crashes (or stops) before a window ends loses that push: the
 * messages stay in the record, the notification is not sent. The outbox's
 * worker, calling messageCommitted, does not change that; a persistent
 * window table would.
 */
export class PushNotifier {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly deps: {
      store: PushStore;
      windows: PushWindows;
      presence: Pick<Presence, 'isOnline'>;
      /** null: Web Push is off, nothing is sent. */
      sender: PushSender | null;
      clock: Clock;
      logger: Logger;
      batchMs: number;
      offlineMs: number;
    },
  ) {}

  /** A message was committed: counts it into the windows of the offline members it notifies. */
  async messageCommitted(message: MessageRow): Promise<void> {
    if (!this.deps.sender || this.stopped || message.deletedAt) return;
    const recipients = await this.deps.store.recipients(message, this.deps.clock.now());
    if (recipients.length === 0) return;
    const online = await this.deps.presence.isOnline(recipients);
    const offline = recipients.filter((_, i) => !online[i]);
    if (offline.length === 0) return;
    const names = await this.deps.store.names(message.roomId, message.authorId);
    if (!names) return;
    const entry: WindowEntry = { seq: message.seq, roomName: names.roomName, author: names.author, body: preview(message.body) };
    // Long enough to outlive its end and a wait for the member's grace: a window whose opener died goes away.
    const ttlMs = this.deps.batchMs + this.deps.offlineMs + 60_000;
    await Promise.all(
      offline.map(async (userId) => {
        if (await this.deps.windows.add(userId, message.roomId, entry, ttlMs))
          this.schedule(userId, message.roomId, this.deps.batchMs);
      }),
    );
  }

  /** Presence moved (presenceChanged: one instance hears each transition). */
  async presenceChanged(userId: string, online: boolean): Promise<void> {
    if (online) await this.deps.windows.wentOnline(userId);
    else await this.deps.windows.wentOffline(userId, this.deps.offlineMs);
  }

  /** Timers end; windows still open on this instance are not pushed (see the class comment). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(userId: string, roomId: string, ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.flush(userId, roomId).catch((error: Error) => this.deps.logger.warn('a push failed', { error }));
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** The window's end: push it, wait for the member's grace to run out, or drop it (they are back). */
  private async flush(userId: string, roomId: string): Promise<void> {
    const [online] = await this.deps.presence.isOnline([userId]);
    if (!online) {
      const grace = await this.deps.windows.offlineGrace(userId);
      if (grace > 0) return this.schedule(userId, roomId, grace);
    }
    const gathered = await this.deps.windows.close(userId, roomId);
    // Back online: they see the room themselves (its unread count says the rest).
    if (!gathered || online || !this.deps.sender) return;
    const payload: PushPayload = {
      roomId,
      roomName: gathered.newest.roomName,
      count: gathered.count,
      preview: { author: gathered.newest.author, body: gathered.newest.body },
      url: `/#room=${roomId}`,
    };
    const body = JSON.stringify(payload);
    for (const subscription of await this.deps.store.ofUser(userId)) {
      const { outcome, status } = await this.deps.sender.send(subscription, body);
      if (outcome === 'gone') await this.deps.store.drop(subscription.endpoint);
      else if (outcome === 'failed') this.deps.logger.warn('a push service refused a notification', { status });
    }
  }
}

/** The first PREVIEW_CHARS characters (code points, so no surrogate pair is cut in two). */
export function preview(body: string): string {
  const chars = Array.from(body);
  return chars.length <= PREVIEW_CHARS ? body : chars.slice(0, PREVIEW_CHARS).join('');
}

import type { Clock } from '../../clock.js';
import type { MessageRow } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import type { Presence } from '../../realtime/presence.js';
import type { PushSender } from './push.sender.js';
import type { PushStore } from './push.store.js';
import type { PushWindows, WindowEntry, WindowKey } from './push.windows.js';

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

/** How often each instance looks for windows due that nobody took (their opener died, or its timer is late). */
const DUE_POLL_MS = 1000;
/** Windows taken by one look. */
const DUE_BATCH = 100;

/**
 * Web Push for members who are not connected. Each committed message is
 * handed to `messageCommitted` by the push queue (push.queue.ts, from the
 * outbox, so a message committed by an instance that dies is still
 * counted). It asks the database whom the message notifies (level, mute,
 * blocks: PushStore.recipients), keeps those with no socket on any
 * instance, and counts the message into each one's window for the room.
 * The first message opens the window; at its end (`batchMs`) one push
 * carries the count and the newest message, provided the member is still
 * not connected and has been gone `offlineMs` (when not yet, the window is
 * postponed until they have). A push service's 404 or 410 drops that
 * subscription.
 *
 * The instance that opened a window waits for its end with a timer; every
 * instance also looks each second for due windows nobody took, so a window
 * whose opener died (or stopped) is pushed by another. Taking a window is
 * atomic (PushWindows.take): it is pushed once. With Redis the windows
 * outlive any instance; without it (one process) they live in the process.
 */
export class PushNotifier {
  private readonly timers = new Set<NodeJS.Timeout>();
  private poller: NodeJS.Timeout | null = null;
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

  /** Looks for due windows nobody took, every DUE_POLL_MS (when Web Push is on). */
  start(): void {
    if (!this.deps.sender || this.stopped) return;
    this.poller = setInterval(() => {
      this.pushDue().catch((error: Error) => this.deps.logger.warn('could not push due notifications', { error }));
    }, DUE_POLL_MS);
    this.poller.unref();
  }

  /** A message was committed: counts it into the windows of the offline members it notifies. */
  async messageCommitted(message: MessageRow): Promise<void> {
    // Stopped: the row is left for another instance (its queue retries it), not dropped as counted.
    if (this.stopped) throw new Error('Web Push is stopping on this instance');
    if (!this.deps.sender || message.deletedAt) return;
    const recipients = await this.deps.store.recipients(message, this.deps.clock.now());
    if (recipients.length === 0) return;
    const online = await this.deps.presence.isOnline(recipients);
    const offline = recipients.filter((_, i) => !online[i]);
    if (offline.length === 0) return;
    const names = await this.deps.store.names(message.roomId, message.authorId);
    if (!names) return;
    const entry: WindowEntry = { seq: message.seq, roomName: names.roomName, author: names.author, body: preview(message.body) };
    // Long enough to outlive its end and a wait for the member's grace: a window nobody closes goes away.
    const ttlMs = this.deps.batchMs + this.deps.offlineMs + 60_000;
    const dueAt = Date.now() + this.deps.batchMs;
    await Promise.all(
      offline.map(async (userId) => {
        const key = { userId, roomId: message.roomId };
        if (await this.deps.windows.add(key, entry, ttlMs, dueAt)) this.schedule(key, this.deps.batchMs);
      }),
    );
  }

  /** Presence moved (presenceChanged: one instance hears each transition). */
  async presenceChanged(userId: string, online: boolean): Promise<void> {
    if (online) await this.deps.windows.wentOnline(userId);
    else await this.deps.windows.wentOffline(userId, this.deps.offlineMs);
  }

  /** Timers end; windows still open are pushed by another instance (or lost with the process, without Redis). */
  stop(): void {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** At the window's end, this instance takes it, unless another already has. */
  private schedule(key: WindowKey, ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void (async () => {
        if (await this.deps.windows.take(key)) await this.flush(key);
      })().catch((error: Error) => this.deps.logger.warn('a push failed', { error }));
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async pushDue(): Promise<void> {
    if (this.stopped) return;
    const taken = await this.deps.windows.takeDue(Date.now(), DUE_BATCH);
    for (const key of taken) await this.flush(key).catch((error: Error) => this.deps.logger.warn('a push failed', { error }));
  }

  /** A taken window: push it, postpone it while the member's grace lasts, or drop it (they are back). */
  private async flush(key: WindowKey): Promise<void> {
    const { userId, roomId } = key;
    const [online] = await this.deps.presence.isOnline([userId]);
    if (!online) {
      const grace = await this.deps.windows.offlineGrace(userId);
      if (grace > 0) {
        await this.deps.windows.postpone(key, Date.now() + grace);
        return this.schedule(key, grace);
      }
    }
    const gathered = await this.deps.windows.close(key);
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

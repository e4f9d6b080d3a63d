import { withDeadline } from '../deadline.js';
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import { topics, type RoomEvent, type UserEvent } from './topics.js';

/**
 * The one way services announce what they committed. Fire-and-forget by
 * default: a committed write never fails or waits because Redis is slow or
 * down (feeds fill lost messages from the database). `roomAwaited` waits
 * briefly, for events whose order against the caller's next request matters.
 */
export class Publisher {
  /** Announcements under way, so a stopping instance can let them out before it closes Redis. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {}

  room(roomId: string, event: RoomEvent): void {
    this.track(this.bus.publish(topics.room(roomId), event).catch((error: Error) => this.failed(event.type, error)));
  }

  user(userId: string, event: UserEvent): void {
    this.track(this.bus.publish(topics.user(userId), event).catch((error: Error) => this.failed(event.type, error)));
  }

  /** Counts work that ends in announcements (presence: read the user's rooms, then announce to each). */
  track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Resolves when what was announced so far went out, or after `deadlineMs`. */
  async settle(deadlineMs = 1000): Promise<void> {
    while (this.inFlight.size > 0) {
      const ok = await withDeadline(Promise.allSettled([...this.inFlight]), deadlineMs, 'redis').then(
        () => true,
        () => false,
      );
      if (!ok) return;
    }
  }

  /** @param deadlineMs how long the caller waits at most @default 1000 */
  async roomAwaited(roomId: string, event: RoomEvent, deadlineMs = 1000): Promise<void> {
    await withDeadline(this.bus.publish(topics.room(roomId), event), deadlineMs, 'redis').catch((error: Error) =>
      this.failed(event.type, error),
    );
  }

  private failed(type: string, error: Error) {
    this.logger.warn('could not announce an event', { type, error });
  }
}

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
  constructor(
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {}

  room(roomId: string, event: RoomEvent): void {
    this.bus.publish(topics.room(roomId), event).catch((error: Error) => this.failed(event.type, error));
  }

  user(userId: string, event: UserEvent): void {
    this.bus.publish(topics.user(userId), event).catch((error: Error) => this.failed(event.type, error));
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

import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { memberships } from '../../db/schema.js';
import type { NotificationLevel } from '../../generated/graphql.js';

export class NotificationsStore {
  constructor(private readonly db: Database) {}

  /** Sets a member's level and mute in a room; false when they are not a member (any more). */
  async set(roomId: string, userId: string, level: NotificationLevel, mutedUntil: Date | null): Promise<boolean> {
    const rows = await this.db
      .update(memberships)
      .set({ notificationLevel: level, notificationsMutedUntil: mutedUntil })
      .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
      .returning({ roomId: memberships.roomId });
    return rows.length > 0;
  }
}

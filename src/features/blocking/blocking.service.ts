import type { Viewer } from '../../auth/viewer.js';
import type { UserRow } from '../../db/schema.js';
import { badInput, forbidden, notFound } from '../../errors.js';
import { requireId } from '../../validation.js';
import type { UsersService } from '../users/users.service.js';
import type { BlockingStore } from './blocking.store.js';

/**
 * Blocking between two users. It is silent: the blocked user gets no event
 * of it; only refusals with reason BLOCKED (a DIRECT room, a DIRECT message,
 * an invitation, either way) show it. In GROUP rooms the blocked user's
 * messages still arrive, and do not count as unread for the blocker
 * (read-state.store.ts).
 */
export class BlockingService {
  constructor(private readonly deps: { store: BlockingStore; users: UsersService }) {}

  async block(viewer: Viewer, userId: string): Promise<boolean> {
    const other = await this.requireOther(viewer, userId);
    await this.deps.store.block(viewer.userId, other.id);
    return true;
  }

  async unblock(viewer: Viewer, userId: string): Promise<boolean> {
    const other = await this.requireOther(viewer, userId);
    await this.deps.store.unblock(viewer.userId, other.id);
    return true;
  }

  blockedUsers(viewer: Viewer): Promise<UserRow[]> {
    return this.deps.store.blockedBy(viewer.userId);
  }

  /** Whether the viewer blocked each of these users, in the order asked. */
  async blockedByViewer(viewer: Viewer | null, userIds: readonly string[]): Promise<boolean[]> {
    const blocked = new Set(viewer ? await this.deps.store.blockedAmong(viewer.userId, [...new Set(userIds)]) : []);
    return userIds.map((id) => blocked.has(id));
  }

  /** FORBIDDEN with reason BLOCKED when either of the two blocked the other. */
  async requireNotBlocked(a: string, b: string): Promise<void> {
    if (await this.deps.store.eitherBlocked(a, b)) throw forbidden('One of you has blocked the other', 'BLOCKED');
  }

  private async requireOther(viewer: Viewer, userId: string): Promise<UserRow> {
    const id = requireId(userId, 'User');
    if (id === viewer.userId) throw badInput('You cannot block yourself', 'userId');
    const user = await this.deps.users.findById(id);
    if (!user) throw notFound('User');
    return user;
  }
}

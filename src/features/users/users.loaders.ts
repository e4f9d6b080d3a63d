import DataLoader from 'dataloader';
import type { UserRow } from '../../db/schema.js';
import type { UsersService } from './users.service.js';

export interface UsersLoaders {
  user: DataLoader<string, UserRow | null>;
  /** User.online by user id; no cache, presence changes while a subscription lives. */
  online: DataLoader<string, boolean>;
}

export function createUsersLoaders(users: UsersService): UsersLoaders {
  return {
    user: new DataLoader((ids) => users.findByIds(ids)),
    online: new DataLoader((userIds) => users.isOnline(userIds), { cache: false }),
  };
}

/** What loadMany found: the users that exist, in the order asked (a deleted account is left out). */
export function present<T>(loaded: ReadonlyArray<T | null | Error>): T[] {
  return loaded.filter((item): item is T => item !== null && !(item instanceof Error));
}

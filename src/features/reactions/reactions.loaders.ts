import DataLoader from 'dataloader';
import type { ReactionGroup } from './reactions.mappers.js';
import type { ReactionsService } from './reactions.service.js';

export interface ReactionsLoaders {
  /** Message.reactions by message id; no cache, since reactions change while a subscription lives. */
  reactions: DataLoader<string, ReactionGroup[]>;
}

export function createReactionsLoaders(reactions: ReactionsService): ReactionsLoaders {
  return {
    reactions: new DataLoader(
      async (messageIds) => {
        const groups = await reactions.groupsOf(messageIds);
        return messageIds.map((id) => groups.get(id) ?? []);
      },
      { cache: false },
    ),
  };
}

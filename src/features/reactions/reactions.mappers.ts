/** What resolvers of Reaction get: one entry of Message.reactions, the reactions with one emoji. */
export interface ReactionGroup {
  emoji: string;
  count: number;
  userIds: string[];
}

/** A rate limit: `points` actions per window of `seconds`. */
export interface Rate {
  readonly points: number;
  readonly seconds: number;
}

/** The rate limits of Config (the README lists their variables). */
export interface RateLimits {
  /** sendMessage calls per user, each aliased call counted. */
  readonly send: Rate;
  /** Failed logins per username; once spent, the username is refused even with the right password. */
  readonly loginUser: Rate;
  /** Failed logins per client IP. */
  readonly loginIp: Rate;
  /** register calls per client IP. */
  readonly registerIp: Rate;
  /** graphql-ws messages per socket; over it the socket is closed with 4429. */
  readonly wsMessages: Rate;
  /** Query.users calls per user (finding people by username). */
  readonly userSearch: Rate;
}

/**
 * The per-user limits of the mutations besides sendMessage (whose limit is
 * RateLimits.send); mutation-limits.ts says which mutation counts against which.
 */
export interface MutationRateLimits {
  /** editMessage and deleteMessage. */
  readonly edit: Rate;
  /** addReaction and removeReaction. */
  readonly react: Rate;
  /** setTyping. */
  readonly typing: Rate;
  /** markRead. */
  readonly read: Rate;
  /** createRoom, joinRoom, leaveRoom, inviteToRoom and openDirectRoom. */
  readonly rooms: Rate;
  /** refreshToken. */
  readonly refresh: Rate;
  /** setMemberRole, kickMember, banMember, unbanMember, muteMember, updateRoom and resolveReport. */
  readonly moderation: Rate;
  /** reportMessage. */
  readonly reports: Rate;
  /** blockUser and unblockUser. */
  readonly blocks: Rate;
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** "100/10s", "10/15m", "20/1h", "5/2s", "3/1d", "7/30" (seconds) -> a Rate; null for anything else. */
export function parseRate(text: string): Rate | null {
  const match = /^\s*(\d+)\s*\/\s*(\d+)?\s*(s|m|h|d)?\s*$/.exec(text);
  if (!match || (match[2] === undefined && match[3] === undefined)) return null;
  const points = Number(match[1]);
  const seconds = Number(match[2] ?? 1) * UNIT_SECONDS[(match[3] ?? 's') as keyof typeof UNIT_SECONDS];
  if (!Number.isSafeInteger(points) || points < 1 || !Number.isSafeInteger(seconds) || seconds < 1) return null;
  return { points, seconds };
}

import { ChatRequestError, type ReportReason, type RoomRole } from '../../client/index.js';

/**
 * The contract's moderation rules as the page needs them: who outranks whom
 * (to offer an action only where the server would allow it), the choices
 * its limits allow, and refusals (MUTED, SLOW_MODE, ROOM_FROZEN, BANNED,
 * BLOCKED) in plain words with how long they last.
 */

const RANK: Record<string, number> = { OWNER: 3, ADMIN: 2, MODERATOR: 1, MEMBER: 0 };

export const rank = (role: string | null | undefined): number => (role ? (RANK[role] ?? 0) : -1);

/** The viewer's role is MODERATOR or above. */
export const moderates = (role: string | null | undefined): boolean => rank(role) >= RANK.MODERATOR!;

/** Kick, mute, ban, or delete the messages of someone with role `theirs`: only a moderator ranked above them. */
export const outranks = (mine: string | null | undefined, theirs: string | null | undefined): boolean =>
  moderates(mine) && (mine === 'OWNER' || rank(mine) > rank(theirs ?? 'MEMBER'));

/** The badge beside a member's name; none for a MEMBER. */
export function roleLabel(role: string): string | null {
  switch (role) {
    case 'OWNER':
      return 'Owner';
    case 'ADMIN':
      return 'Admin';
    case 'MODERATOR':
      return 'Moderator';
    default:
      return null;
  }
}

/** The roles the viewer may give a member they outrank (setMemberRole): the OWNER any, an ADMIN MODERATOR or MEMBER. */
export function assignableRoles(mine: string | null | undefined): RoomRole[] {
  if (mine === 'OWNER') return ['MEMBER', 'MODERATOR', 'ADMIN', 'OWNER'];
  if (mine === 'ADMIN') return ['MEMBER', 'MODERATOR'];
  return [];
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Mutes: 10 s to 28 days (the contract's muteMember). */
export const MUTE_CHOICES: Array<[seconds: number, label: string]> = [
  [MINUTE, '1 minute'],
  [10 * MINUTE, '10 minutes'],
  [HOUR, '1 hour'],
  [DAY, '1 day'],
  [7 * DAY, '1 week'],
  [28 * DAY, '28 days'],
];

/** Bans: 60 s to 365 days, or no end (the contract's banMember); 0 stands for no end here. */
export const BAN_CHOICES: Array<[seconds: number, label: string]> = [
  [HOUR, '1 hour'],
  [DAY, '1 day'],
  [7 * DAY, '1 week'],
  [30 * DAY, '30 days'],
  [365 * DAY, '365 days'],
  [0, 'until lifted'],
];

/** Slow mode: 0 (off) to 21,600 s (the contract's updateRoom). */
export const SLOW_MODE_CHOICES: Array<[seconds: number, label: string]> = [
  [0, 'Off'],
  [10, '10 seconds'],
  [30, '30 seconds'],
  [MINUTE, '1 minute'],
  [5 * MINUTE, '5 minutes'],
  [15 * MINUTE, '15 minutes'],
  [HOUR, '1 hour'],
  [6 * HOUR, '6 hours'],
];

export const REPORT_REASONS: Array<[ReportReason, string]> = [
  ['SPAM', 'Spam'],
  ['HARASSMENT', 'Harassment'],
  ['HATE', 'Hate'],
  ['SEXUAL', 'Sexual content'],
  ['VIOLENCE', 'Violence'],
  ['OTHER', 'Something else'],
];

/** "1 day 2 h", "5 min 3 s", "42 s": what is left of a mute or slow mode, to the second while under an hour. */
export function remaining(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s >= DAY) {
    const days = Math.floor(s / DAY);
    const hours = Math.floor((s % DAY) / HOUR);
    return `${days} day${days === 1 ? '' : 's'}${hours ? ` ${hours} h` : ''}`;
  }
  if (s >= HOUR) {
    const hours = Math.floor(s / HOUR);
    const minutes = Math.floor((s % HOUR) / MINUTE);
    return `${hours} h${minutes ? ` ${minutes} min` : ''}`;
  }
  if (s >= MINUTE) {
    const minutes = Math.floor(s / MINUTE);
    return `${minutes} min${s % MINUTE ? ` ${s % MINUTE} s` : ''}`;
  }
  return `${s} s`;
}

/** A refusal the page explains on its own: why, and (MUTED, SLOW_MODE) until when, as a clock time in ms. */
export interface Restriction {
  reason: 'MUTED' | 'SLOW_MODE' | 'ROOM_FROZEN' | 'BANNED' | 'BLOCKED';
  until: number | null;
}

const REASONS = new Set<Restriction['reason']>(['MUTED', 'SLOW_MODE', 'ROOM_FROZEN', 'BANNED', 'BLOCKED']);

/** The moderation refusal an error carries (extensions.reason and retryAfter), if it is one. */
export function restrictionOf(error: unknown, now = Date.now()): Restriction | null {
  if (!(error instanceof ChatRequestError)) return null;
  const extensions = error.errors[0]?.extensions;
  const reason = extensions?.reason as Restriction['reason'] | undefined;
  if (!reason || !REASONS.has(reason)) return null;
  const retryAfter = Number(extensions?.retryAfter);
  return { reason, until: Number.isFinite(retryAfter) && retryAfter > 0 ? now + retryAfter * 1000 : null };
}

/** What a restriction means for the viewer, in plain words, with the time left when it has an end. */
export function restrictionText(restriction: Restriction, now = Date.now()): string {
  const left = restriction.until === null ? null : remaining((restriction.until - now) / 1000);
  switch (restriction.reason) {
    case 'MUTED':
      return left
        ? `A moderator muted you in this room. You can read, but not send, react or type for ${left} more.`
        : 'A moderator muted you in this room. You can read, but not send, react or type until they lift it.';
    case 'SLOW_MODE':
      return `Slow mode is on in this room: you can send your next message in ${left ?? 'a moment'}. It goes out by itself then.`;
    case 'ROOM_FROZEN':
      return 'This room is frozen: only its moderators can send, react or type for now.';
    case 'BANNED':
      return 'Banned from this room: a moderator has to lift the ban first.';
    case 'BLOCKED':
      return 'One of you has blocked the other, so you cannot message or invite each other.';
  }
}

/**
 * The permission table: the one place that decides "may this viewer do this
 * (to that member)" in a room. Every moderation mutation, every moderator
 * delete, the moderators-only reads and the moderators-only live events ask
 * here (the SQL of a send says the same rules for speaking, see
 * messages.statements.ts); nothing else compares roles.
 *
 * Roles rank OWNER > ADMIN > MODERATOR > MEMBER. Acting on another member
 * needs a role that outranks theirs, so nobody acts on an equal or on
 * themselves, and nobody acts on the OWNER. DIRECT rooms take no moderation
 * at all (blocking covers them).
 */
import type { Clock } from '../../clock.js';
import type { MembershipRow, RoomRole, RoomRow } from '../../db/schema.js';
import { ChatError, forbidden, notFound, rateLimited } from '../../errors.js';

export type { RoomRole };

export const ROLES: readonly RoomRole[] = ['OWNER', 'ADMIN', 'MODERATOR', 'MEMBER'];

export const RANK: Readonly<Record<RoomRole, number>> = { OWNER: 3, ADMIN: 2, MODERATOR: 1, MEMBER: 0 };

/** a outranks b. */
export const outranks = (a: RoomRole, b: RoomRole) => RANK[a] > RANK[b];

/** What a role may be allowed to do in a room. */
export type Right =
  /** setMemberRole (which roles: GRANTS). */
  | 'setRole'
  | 'kick'
  | 'ban'
  | 'unban'
  | 'mute'
  /** deleteMessage of someone else's message (one's own needs no right). */
  | 'deleteMessage'
  | 'updateRoom'
  /** moderationLog, reports, Room.bans, resolveReport; ReportFiled and REPORT_RESOLVED events. */
  | 'moderate'
  /** Posting, reacting and typing regardless of slow mode and freeze. */
  | 'speakFreely'
  /** mentionRoom in a room of more than MENTION_ROOM_FREELY members (anyone may in smaller ones). */
  | 'mentionRoom'
  /** pinMessage and unpinMessage in a GROUP room (in a DIRECT room, either member may). */
  | 'pin';

/** Whom a right is used on: nobody in particular, a lower-ranked member, or a lower-ranked member or a non-member. */
type Target = 'none' | 'below' | 'below or outsider';

interface Rule {
  /** The lowest role that has the right. */
  readonly least: RoomRole;
  readonly target: Target;
}

/** The table itself (README "Moderation" prints it). */
export const PERMISSIONS: Readonly<Record<Right, Rule>> = {
  setRole: { least: 'ADMIN', target: 'below' },
  kick: { least: 'MODERATOR', target: 'below' },
  ban: { least: 'MODERATOR', target: 'below or outsider' },
  unban: { least: 'MODERATOR', target: 'none' },
  mute: { least: 'MODERATOR', target: 'below' },
  deleteMessage: { least: 'MODERATOR', target: 'below or outsider' },
  updateRoom: { least: 'ADMIN', target: 'none' },
  moderate: { least: 'MODERATOR', target: 'none' },
  speakFreely: { least: 'MODERATOR', target: 'none' },
  mentionRoom: { least: 'MODERATOR', target: 'none' },
  pin: { least: 'MODERATOR', target: 'none' },
};

/**
 * The roles each role may give with setMemberRole (on members it outranks).
 * The OWNER giving OWNER hands the room over: the previous owner becomes ADMIN.
 */
export const GRANTS: Readonly<Record<RoomRole, readonly RoomRole[]>> = {
  OWNER: ['OWNER', 'ADMIN', 'MODERATOR', 'MEMBER'],
  ADMIN: ['MODERATOR', 'MEMBER'],
  MODERATOR: [],
  MEMBER: [],
};

export interface Judged {
  readonly room: Pick<RoomRow, 'kind'>;
  /** The viewer's role; null when not a member. */
  readonly actor: RoomRole | null;
  /** The role of the member acted on; null when they are not a member. Ignored for rights without a target. */
  readonly target?: RoomRole | null;
  /** setRole: the role to give. */
  readonly to?: RoomRole;
}

/**
 * Why not: FORBIDDEN with words for the error, or NOT_FOUND when the right
 * is there but the member to act on is not (told only to those with the
 * right); null when allowed.
 */
export interface Refusal {
  readonly code: 'FORBIDDEN' | 'NOT_FOUND';
  readonly message: string;
}

export function refusal(right: Right, { room, actor, target = null, to }: Judged): Refusal | null {
  const no = (message: string): Refusal => ({ code: 'FORBIDDEN', message });
  if (room.kind === 'DIRECT') return no('A DIRECT room has no moderation: block the user instead');
  if (actor === null) return no('You are not a member of this room');
  const rule = PERMISSIONS[right];
  if (RANK[actor] < RANK[rule.least]) return no(`Only ${rule.least} and above may do this`);
  if (right === 'setRole' && to !== undefined && !GRANTS[actor].includes(to)) return no(`A ${actor} cannot give the role ${to}`);
  if (rule.target !== 'none') {
    if (target === null && rule.target === 'below') return { code: 'NOT_FOUND', message: 'Member not found' };
    if (target !== null && !outranks(actor, target)) return no('You may act only on members ranked below you');
  }
  return null;
}

/** True when allowed. */
export const may = (right: Right, judged: Judged) => refusal(right, judged) === null;

/** The refusal as its error, unless allowed. */
export function requireRight(right: Right, judged: Judged): void {
  const why = refusal(right, judged);
  if (why === null) return;
  throw why.code === 'NOT_FOUND' ? notFound('Member') : forbidden(why.message);
}

/** Whole seconds until `until`, at least 1. */
const secondsUntil = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));

/** The member's mute end when it is still ahead; null otherwise. */
export function activeMute(member: Pick<MembershipRow, 'mutedUntil'>, clock: Clock): Date | null {
  return member.mutedUntil && member.mutedUntil.getTime() > clock.now().getTime() ? member.mutedUntil : null;
}

/**
 * Why a member may not edit, react or type now (MUTED with retryAfter, or
 * ROOM_FROZEN for those below MODERATOR); null when they may.
 */
export function voiceRefusal(
  room: Pick<RoomRow, 'frozen'>,
  member: Pick<MembershipRow, 'role' | 'mutedUntil'>,
  clock: Clock,
): ChatError | null {
  const now = clock.now();
  const muted = activeMute(member, clock);
  if (muted) return forbidden('You are muted in this room', 'MUTED', { retryAfter: secondsUntil(muted, now) });
  if (room.frozen && RANK[member.role] < RANK[PERMISSIONS.speakFreely.least]) {
    return forbidden('This room is frozen: only moderators may post, react or type', 'ROOM_FROZEN');
  }
  return null;
}

/**
 * Why a member may not post now: voiceRefusal's reasons, then slow mode
 * (RATE_LIMITED, reason SLOW_MODE, retryAfter: the seconds left); null when
 * they may. What a send statement refused is explained with this.
 */
export function postRefusal(
  room: Pick<RoomRow, 'frozen' | 'slowModeSeconds'>,
  member: Pick<MembershipRow, 'role' | 'mutedUntil' | 'lastPostedAt'>,
  clock: Clock,
): ChatError | null {
  const voice = voiceRefusal(room, member, clock);
  if (voice) return voice;
  if (room.slowModeSeconds === 0 || RANK[member.role] >= RANK[PERMISSIONS.speakFreely.least] || !member.lastPostedAt) return null;
  const next = new Date(member.lastPostedAt.getTime() + room.slowModeSeconds * 1000);
  const now = clock.now();
  if (next.getTime() <= now.getTime()) return null;
  return rateLimited(secondsUntil(next, now), `Slow mode: one message per ${room.slowModeSeconds} s in this room`, 'SLOW_MODE');
}

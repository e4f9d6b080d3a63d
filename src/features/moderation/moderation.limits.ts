/**
 * The contract's limits of moderation and safety, named once. (How long the
 * log is kept and how often it is swept are configuration: Config.moderation.)
 */

/** updateRoom slowModeSeconds: 0 (off) to 6 hours. */
export const SLOW_MODE_MAX_SECONDS = 21_600;
/** banMember durationSeconds: 1 minute to 365 days, or null for no end. */
export const BAN_MIN_SECONDS = 60;
export const BAN_MAX_SECONDS = 31_536_000;
/** muteMember durationSeconds: 10 s to 28 days; 0 lifts the mute. */
export const MUTE_MIN_SECONDS = 10;
export const MUTE_MAX_SECONDS = 2_419_200;
/** The reason of a kick, ban or mute, in characters. */
export const REASON_MAX_CHARACTERS = 500;
/** A report's details, in characters. */
export const REPORT_DETAILS_MAX_CHARACTERS = 1000;
/** moderationLog and reports: `first` 1-100, 50 unasked. */
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 100;
/** Room names (updateRoom, as createRoom). */
export const ROOM_NAME_MAX_CHARACTERS = 100;

/**
 * Where the server reads the time for rules that depend on it: when a ban or
 * a mute ends, a room's slow mode, how long the moderation log is kept.
 * Everything else (createdAt of messages, token expiry) uses the system's
 * time. An app is given its clock (AppOptions.clock), so tests can move time
 * forward instead of sleeping through it.
 *
 * The SQL that compares with it takes `now` as a parameter, never Postgres's
 * own now(): both sides of a comparison must read the same clock.
 */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * An instant as a statement parameter: ISO-8601 text, for the statement to
 * cast to timestamptz. (postgres.js does not serialise a Date bound inside
 * raw or prepared SQL the way its own queries do; text is read alike by it
 * and PGlite.)
 */
export const sqlInstant = (instant: Date): string => instant.toISOString();

import { createHash } from 'node:crypto';

/** What register accepts, and what every provisioned username is made to fit. */
export const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;
const MAX = 32;

/**
 * The usernames a user provisioned from an identity provider may get, in the
 * order they are tried; the first free one (regardless of case) is theirs.
 * Deterministic: the same claim and subject always give the same list.
 *
 * - The claim, if it is a string: accents dropped (NFKD), every run of
 *   characters outside [A-Za-z0-9_.-] made one `_`, `_` trimmed from both
 *   ends, cut to 32 characters ("Zoë Smith" -> "Zoe_Smith",
 *   "ana@example.com" -> "ana_example.com").
 * - Then that name (or "user" when it is missing or shorter than 3) with `-`
 *   and the first 6, then 12 hex digits of the SHA-256 of the subject,
 *   cut so the whole fits 32 ("ana-3f9a0c").
 * - Last, "user-" and 27 hex digits of the subject's hash.
 */
export function usernameCandidates(claim: unknown, subject: string): string[] {
  const base = typeof claim === 'string' ? sanitize(claim) : '';
  const tag = createHash('sha256').update(subject).digest('hex');
  const stem = base.length >= 3 ? base : 'user';
  const candidates = [
    ...(base.length >= 3 ? [base] : []),
    `${stem.slice(0, MAX - 7)}-${tag.slice(0, 6)}`,
    `${stem.slice(0, MAX - 13)}-${tag.slice(0, 12)}`,
    `user-${tag.slice(0, MAX - 5)}`,
  ];
  return [...new Set(candidates)];
}

function sanitize(claim: string): string {
  return claim
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX);
}

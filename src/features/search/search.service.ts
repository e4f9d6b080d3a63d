import type { Viewer } from '../../auth/viewer.js';
import type { MessageRow } from '../../db/schema.js';
import type { ExpensiveReads } from '../../limits/expensive-reads.js';
import { enforce } from '../../limits/index.js';
import type { RateLimiter } from '../../limits/rate-limits.js';
import { requireCharacters, requireCount } from '../../validation.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { SearchStore } from './search.store.js';

const DEFAULT_RESULTS = 20;
/** The contract's cap on a query, in code points. */
const MAX_QUERY = 256;
/** Larger requests are cut to this rather than refused: the contract sets no limit. */
export const MAX_RESULTS = 100;

export interface SearchServiceDeps {
  store: SearchStore;
  rooms: RoomsService;
  /** Searches per user (RATE_LIMIT_SEARCH). */
  limiter: RateLimiter;
  /** The instance's turns for expensive reads (DATABASE_EXPENSIVE_CONCURRENCY). */
  expensiveReads: ExpensiveReads;
}

export class SearchService {
  constructor(private readonly deps: SearchServiceDeps) {}

  /**
   * With roomId: that room only (NOT_FOUND when unknown, FORBIDDEN for a
   * non-member). The query is 1-256 characters of well-formed text, checked
   * before anything else: its length is what bounds the search's cost. A
   * blank one finds nothing. Every call spends a point of the viewer's
   * search limit, and the search itself waits for a turn among the
   * instance's expensive reads.
   */
  async search(
    viewer: Viewer,
    query: string,
    roomId: string | null | undefined,
    first: number | null | undefined,
  ): Promise<MessageRow[]> {
    requireCharacters('query', query, 1, MAX_QUERY);
    await enforce(this.deps.limiter, viewer.userId);
    const limit = first ?? DEFAULT_RESULTS;
    requireCount('first', limit, Number.MAX_SAFE_INTEGER); // negative: BAD_USER_INPUT; large ones are cut below
    const room = roomId != null ? (await this.deps.rooms.requireMembership(viewer, roomId)).room : null;
    // Postgres text cannot hold NUL, and no message contains one: it separates words like a space.
    const text = query.replaceAll('\u0000', ' ');
    if (text.trim() === '' || limit === 0) return [];
    const rows = Math.min(limit, MAX_RESULTS);
    return this.deps.expensiveReads.run(() => this.deps.store.search(viewer.userId, text, room?.id ?? null, rows));
  }
}

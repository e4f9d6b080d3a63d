import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import type { Rate } from './rate.js';

/** What a limiter says to one more action: go ahead, or wait `retryAfter` whole seconds (at least 1). */
export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfter: number };

const ALLOWED: Verdict = Object.freeze({ allowed: true });

export interface RateLimiter {
  readonly rate: Rate;
  /** Spends one point of `key`'s window. Never rejects: a store that fails or is slow is stood in for by this process's limits. */
  consume(key: string): Promise<Verdict>;
  /** Gives back a point consumed earlier (a login that turned out right is not a failed one). */
  refund(key: string): Promise<void>;
}

export interface RateLimiterOptions {
  /** The limiter's name, part of its keys (`<prefix>rl:<name>:<key>` in Redis). */
  name: string;
  rate: Rate;
  /** Shared across instances when given (the app's command connection); in-process otherwise. */
  redis: Redis | null;
  prefix: string;
  logger: Logger;
  /**
   * How long a Redis-backed call may take before this process's own limits answer instead (ms).
   * @default 250
   */
  deadlineMs?: number;
}

/**
 * A limiter over rate-limiter-flexible. With Redis, the counts live in Redis
 * (every instance sees the same window) and an in-process limiter of the same
 * rate is the insurance: it answers whenever Redis fails, is not connected
 * (`rejectIfRedisNotReady`: the command connection never queues) or has not
 * answered within `deadlineMs` (a silent network), so an outage never lifts
 * the limit and never hangs or fails the call. During an outage each instance
 * counts on its own, so N instances allow up to N times the rate.
 */
export function createRateLimiter({ name, rate, redis, prefix, logger, deadlineMs = 250 }: RateLimiterOptions): RateLimiter {
  const keyPrefix = `${prefix}rl:${name}`;
  const memory = new RateLimiterMemory({ keyPrefix, points: rate.points, duration: rate.seconds });
  let limiter: RateLimiterAbstract = memory;
  if (redis) {
    const shared = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix,
      points: rate.points,
      duration: rate.seconds,
      rejectIfRedisNotReady: true,
    });
    limiter = new RLWrapperTimeouts({ limiter: shared, timeoutMs: deadlineMs, insuranceLimiter: memory });
  }
  let warned = false;
  /** rate-limiter-flexible rejects with a RateLimiterRes when over the limit, with an Error when even the insurance failed. */
  const unexpected = (error: unknown) => {
    if (!warned) logger.error('rate limiter failed', { limiter: name, error: error as Error });
    warned = true;
  };
  return {
    rate,
    async consume(key) {
      try {
        await limiter.consume(key);
        return ALLOWED;
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) return { allowed: false, retryAfter: retryAfterSeconds(outcome.msBeforeNext) };
        unexpected(outcome);
        // Never "no limit": an action the limiter could not count is refused for a window.
        return { allowed: false, retryAfter: rate.seconds };
      }
    },
    async refund(key) {
      await limiter.reward(key).catch(unexpected);
    },
  };
}

/** Whole seconds, at least 1: the contract's extensions.retryAfter. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * A fixed window counted synchronously, for what belongs to one socket (its
 * messages): no store, no promise per frame, and frames keep their order.
 */
export class WindowCounter {
  private windowEndsAt = 0;
  private count = 0;

  constructor(private readonly rate: Rate) {}

  /** Counts one; false once this window's points are spent. */
  take(now = Date.now()): boolean {
    if (now >= this.windowEndsAt) {
      this.windowEndsAt = now + this.rate.seconds * 1000;
      this.count = 0;
    }
    return ++this.count <= this.rate.points;
  }
}

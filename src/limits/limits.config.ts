import type { EnvReader } from '../env-reader.js';
import { parseRate, type MutationRateLimits, type Rate, type RateLimits } from './rate.js';

/** The abuse limits' variables: rates in `N/window` form, caps, and how far to trust X-Forwarded-For. */
export function parseAbuseLimits({ value, integerAtLeast, problems }: EnvReader) {
  const rate = (name: string, fallback: string): Rate => {
    const text = value(name) ?? fallback;
    const parsed = parseRate(text);
    if (!parsed) problems.push(`${name} must be N/window such as 100/10s, 10/15m or 20/1h, got "${text}"`);
    return parsed ?? { points: 1, seconds: 1 };
  };
  const rateLimits: RateLimits = Object.freeze({
    send: rate('RATE_LIMIT_SEND', '100/10s'),
    loginUser: rate('RATE_LIMIT_LOGIN_USER', '10/15m'),
    loginIp: rate('RATE_LIMIT_LOGIN_IP', '100/15m'),
    registerIp: rate('RATE_LIMIT_REGISTER_IP', '20/1h'),
    wsMessages: rate('RATE_LIMIT_WS_MESSAGES', '300/10s'),
    userSearch: rate('RATE_LIMIT_USER_SEARCH', '30/10s'),
  });
  const mutationRateLimits: MutationRateLimits = Object.freeze({
    edit: rate('RATE_LIMIT_EDIT', '30/10s'),
    react: rate('RATE_LIMIT_REACT', '30/10s'),
    typing: rate('RATE_LIMIT_TYPING', '30/10s'),
    read: rate('RATE_LIMIT_READ', '60/10s'),
    rooms: rate('RATE_LIMIT_ROOMS', '30/1m'),
    refresh: rate('RATE_LIMIT_REFRESH', '30/1h'),
    moderation: rate('RATE_LIMIT_MODERATION', '60/1m'),
    reports: rate('RATE_LIMIT_REPORTS', '10/1m'),
    blocks: rate('RATE_LIMIT_BLOCKS', '30/1m'),
  });
  return {
    rateLimits,
    mutationRateLimits,
    loginSuccessRate: rate('RATE_LIMIT_LOGIN_SUCCESS', '30/15m'),
    searchRate: rate('RATE_LIMIT_SEARCH', '30/1m'),
    maxSubscriptionsPerSocket: integerAtLeast('MAX_SUBSCRIPTIONS_PER_SOCKET', 100, 1),
    maxSocketsPerUser: integerAtLeast('MAX_SOCKETS_PER_USER', 20, 1),
    maxPendingSocketsPerIp: integerAtLeast('MAX_PENDING_SOCKETS_PER_IP', 50, 1),
    maxStreamsPerUser: integerAtLeast('MAX_STREAMS_PER_USER', 20, 1),
    trustProxy: integerAtLeast('TRUST_PROXY', 0, 0),
  };
}

import webPush from 'web-push';
import type { PushSubscriptionRow } from '../../db/schema.js';
import type { VapidKeys } from './push.config.js';

/** How one delivery to a push service ended. */
export type PushOutcome = 'sent' | 'gone' | 'failed';

/** A push service keeps an undelivered notification this long (seconds): a day, then it is stale. */
const PUSH_TTL_SECONDS = 86_400;

/**
 * Sends one notification to one subscription (RFC 8030): web-push encrypts
 * the payload (RFC 8291, aes128gcm) and signs the VAPID header (RFC 8292);
 * the POST is ours, with a deadline and no redirects followed, over http
 * too (web-push's own sender speaks https only, and a local push service in
 * tests serves http on loopback).
 */
export class PushSender {
  constructor(
    private readonly vapid: VapidKeys,
    private readonly timeoutMs: number,
  ) {}

  /** `gone`: the push service answered 404 or 410, the subscription no longer exists. */
  async send(
    subscription: Pick<PushSubscriptionRow, 'endpoint' | 'p256dh' | 'auth'>,
    payload: string,
  ): Promise<{ outcome: PushOutcome; status: number | null }> {
    const details = webPush.generateRequestDetails(
      { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
      payload,
      { vapidDetails: this.vapid, TTL: PUSH_TTL_SECONDS, contentEncoding: 'aes128gcm', urgency: 'normal' },
    );
    const headers: Record<string, string> = {};
    // fetch sets Content-Length from the body itself.
    for (const [name, value] of Object.entries(details.headers))
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    try {
      const response = await fetch(details.endpoint, {
        method: details.method,
        headers,
        body: details.body && new Uint8Array(details.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body?.cancel();
      if (response.status === 404 || response.status === 410) return { outcome: 'gone', status: response.status };
      return { outcome: response.ok ? 'sent' : 'failed', status: response.status };
    } catch {
      return { outcome: 'failed', status: null };
    }
  }
}

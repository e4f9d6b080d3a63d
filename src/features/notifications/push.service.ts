import type { Viewer } from '../../auth/viewer.js';
import { badInput, forbidden } from '../../errors.js';
import type { PushSubscriptionInput } from '../../generated/graphql.js';
import type { PushConfig } from './push.config.js';
import type { PushStore } from './push.store.js';

/** The contract's cap: a user's 11th subscription drops their oldest. */
export const MAX_PUSH_SUBSCRIPTIONS = 10;
/** Longer endpoints than this are no push service's. */
const MAX_ENDPOINT_LENGTH = 2048;

/** Registering browsers for Web Push (the contract's vapidPublicKey, registerPushSubscription, unregisterPushSubscription). */
export class PushService {
  constructor(
    private readonly deps: {
      store: PushStore;
      config: PushConfig;
      /** A subscription was registered (the push queue starts recording sends). */
      registered: () => void;
    },
  ) {}

  /** The key browsers subscribe with; null when Web Push is off. */
  vapidPublicKey(): string | null {
    return this.deps.config.vapid?.publicKey ?? null;
  }

  /**
   * Idempotent per endpoint (a repeat, or the same endpoint from another
   * account, moves it to the viewer as their newest); the viewer's oldest
   * beyond MAX_PUSH_SUBSCRIPTIONS are dropped.
   */
  async register(viewer: Viewer, input: PushSubscriptionInput): Promise<true> {
    if (!this.deps.config.vapid) throw forbidden('Web Push is not configured on this server (vapidPublicKey is null)');
    const endpoint = this.requireEndpoint(input.endpoint);
    const p256dh = requireKey(input.p256dh, 'p256dh', 65);
    if (Buffer.from(p256dh, 'base64url')[0] !== 4) throw badInput('p256dh must be an uncompressed P-256 public key', 'p256dh');
    const auth = requireKey(input.auth, 'auth', 16);
    await this.deps.store.register(viewer.userId, { endpoint, p256dh, auth }, MAX_PUSH_SUBSCRIPTIONS);
    this.deps.registered();
    return true;
  }

  /** Idempotent: an endpoint the viewer does not hold (unknown, or someone else's) changes nothing. */
  async unregister(viewer: Viewer, endpoint: string): Promise<true> {
    if (endpoint.length <= MAX_ENDPOINT_LENGTH) await this.deps.store.unregister(viewer.userId, endpoint);
    return true;
  }

  /**
   * An https URL (push services are); http only on loopback, and only where
   * PUSH_ALLOW_LOOPBACK_HTTP allows it (a local push service in tests).
   */
  private requireEndpoint(text: string): string {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw badInput('endpoint must be a URL', 'endpoint');
    }
    if (text.length > MAX_ENDPOINT_LENGTH)
      throw badInput(`endpoint must be at most ${MAX_ENDPOINT_LENGTH} characters`, 'endpoint');
    if (url.username !== '' || url.password !== '') throw badInput('endpoint must not carry credentials', 'endpoint');
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    const allowed = url.protocol === 'https:' || (url.protocol === 'http:' && loopback && this.deps.config.allowLoopbackHttp);
    if (!allowed) throw badInput('endpoint must be an https URL', 'endpoint');
    return text;
  }
}

/** A base64url key of exactly `bytes` bytes (padding tolerated, then dropped). */
function requireKey(text: string, field: string, bytes: number): string {
  const bare = text.replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]+$/.test(bare) || Buffer.from(bare, 'base64url').byteLength !== bytes) {
    throw badInput(`${field} must be ${bytes} bytes, base64url`, field);
  }
  return bare;
}

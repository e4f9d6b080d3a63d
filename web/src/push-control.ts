import type { PushSubscriptionInput } from '../../client/index.js';
import { describe } from './api.js';
import { h } from './dom.js';

/** What the control needs of the server (the contract's vapidPublicKey, registerPushSubscription, unregisterPushSubscription). */
export interface PushApi {
  vapidPublicKey(): Promise<string | null>;
  registerPushSubscription(input: PushSubscriptionInput): Promise<unknown>;
  unregisterPushSubscription(endpoint: string): Promise<unknown>;
}

/** The service worker (web/src/sw.ts, built to /sw.js), whose scope is the whole site. */
const WORKER_URL = '/sw.js';
/** Whom this browser's subscription was registered for: another user signing in here does not inherit it. */
const OWNER_KEY = 'chat.push.user';

/**
 * Where this browser stands: it cannot (no service worker or Push API, or
 * not a secure context), the server sends none (vapidPublicKey null), the
 * browser blocks this site's notifications, off, on, or on the way.
 */
export type PushState = 'checking' | 'unsupported' | 'off' | 'blocked' | 'disabled' | 'enabled' | 'enabling' | 'disabling';

const STATE_TEXT: Record<PushState, string> = {
  checking: 'Checking whether this browser can show notifications…',
  unsupported: 'This browser cannot show notifications from this site.',
  off: 'This server sends no notifications.',
  blocked: 'Notifications are blocked for this site in your browser’s settings. Allow them there, then reload the page.',
  disabled: 'Get notified of new messages while this page is closed.',
  enabled: 'Notifications are on in this browser: you get them while this page is closed.',
  enabling: 'Turning notifications on…',
  disabling: 'Turning notifications off…',
};

/** The states with the button, and what it does in each. */
const BUTTON: Partial<Record<PushState, string>> = {
  disabled: 'Enable notifications',
  enabling: 'Enable notifications',
  enabled: 'Turn off notifications',
  disabling: 'Turn off notifications',
};

export const pushSupported = (): boolean => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

/** A base64url key (the VAPID public key) as bytes, for applicationServerKey. */
export function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

const sameBytes = (a: ArrayBuffer | null, b: Uint8Array) =>
  a !== null && a.byteLength === b.byteLength && new Uint8Array(a).every((byte, i) => byte === b[i]);

/** What registerPushSubscription takes, from the subscription's JSON form. */
function subscriptionInput(subscription: PushSubscription): PushSubscriptionInput {
  const { endpoint, keys } = subscription.toJSON();
  if (!endpoint || !keys?.p256dh || !keys.auth) throw new Error('The browser gave a subscription without its keys.');
  return { endpoint, p256dh: keys.p256dh, auth: keys.auth };
}

/** This browser's push subscription on the site's service worker, if it has one. */
async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration('/');
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** Why turning notifications on failed, in words: the browser's refusals by name, the server's by code. */
function failureText(error: unknown): string {
  if (error instanceof DOMException) {
    if (error.name === 'NotAllowedError') return 'The browser did not allow notifications for this site.';
    return `The browser could not set up notifications (${error.message || error.name}). Try again later.`;
  }
  return describe(error);
}

/**
 * "Enable notifications" in the room list: asks the browser's permission,
 * registers the service worker, subscribes with the server's VAPID key and
 * registers the subscription with the server (Web Push; which messages
 * notify is each room's level and mute). It shows where this browser stands
 * and turns notifications off again (the subscription dropped in the
 * browser and at the server). A subscription kept from an earlier visit is
 * registered again for the signed-in user; one made for another user of
 * this browser is dropped.
 */
export class PushControl {
  readonly element: HTMLElement;
  private state: PushState = 'checking';
  private error = '';
  /** The server's key, once asked (null: Web Push is off there). */
  private key: string | null | undefined;
  private readonly text = h('p', { class: 'hint', role: 'status', 'data-testid': 'push-state' });
  private readonly problem = h('p', { class: 'error', role: 'alert', 'data-testid': 'push-error' });
  private readonly button = h('button', {
    type: 'button',
    class: 'secondary',
    'data-testid': 'push-toggle',
    onclick: () => void (this.state === 'enabled' ? this.disable() : this.enable()),
  }) as HTMLButtonElement;

  constructor(
    private readonly api: PushApi,
    private readonly userId: string,
  ) {
    this.element = h(
      'section',
      { class: 'push-control', 'aria-labelledby': 'push-heading', 'data-testid': 'push-control' },
      h('h2', { id: 'push-heading' }, 'Notifications'),
      this.text,
      this.button,
      this.problem,
    );
    this.render();
  }

  /** Reads where this browser stands; a subscription from before is registered for this user again (or dropped). */
  async start(): Promise<void> {
    if (!pushSupported()) return this.set('unsupported');
    if (Notification.permission === 'denied') return this.set('blocked');
    try {
      const subscription = await currentSubscription();
      const key = await this.serverKey();
      if (key === null) return this.set('off');
      if (!subscription) return this.set('disabled');
      if (localStorage.getItem(OWNER_KEY) !== this.userId || Notification.permission !== 'granted') {
        await subscription.unsubscribe();
        localStorage.removeItem(OWNER_KEY);
        return this.set('disabled');
      }
      // The server's key changed since (a new VAPID pair): the old subscription is no use with it.
      const current = sameBytes(subscription.options.applicationServerKey, base64UrlBytes(key))
        ? subscription
        : await this.resubscribe(subscription, key);
      await this.api.registerPushSubscription(subscriptionInput(current));
      this.set('enabled');
    } catch (error) {
      this.error = failureText(error);
      this.set(this.key === null ? 'off' : 'disabled');
    }
  }

  /** Permission first, while the click still counts as the user's (browsers ask only then), then the worker and the subscription. */
  async enable(): Promise<void> {
    if (this.state !== 'disabled') return;
    this.error = '';
    this.set('enabling');
    try {
      const permission = await Notification.requestPermission();
      if (permission === 'denied') return this.set('blocked');
      if (permission !== 'granted') {
        this.error = 'Notifications stay off: choose Allow when the browser asks.';
        return this.set('disabled');
      }
      const key = await this.serverKey();
      if (key === null) return this.set('off');
      await navigator.serviceWorker.register(WORKER_URL, { scope: '/' });
      // Subscribing needs an active worker: ready waits for the one just registered to take over.
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: base64UrlBytes(key),
      });
      try {
        await this.api.registerPushSubscription(subscriptionInput(subscription));
      } catch (error) {
        // Not registered, the subscription would bring nothing: the next attempt makes a new one.
        await subscription.unsubscribe().catch(() => false);
        throw error;
      }
      localStorage.setItem(OWNER_KEY, this.userId);
      this.set('enabled');
    } catch (error) {
      this.error = failureText(error);
      this.set('disabled');
    }
  }

  async disable(): Promise<void> {
    if (this.state !== 'enabled') return;
    this.error = '';
    this.set('disabling');
    await this.forget();
    this.set('disabled');
  }

  /**
   * Drops this browser's subscription, in the browser first: from then on its
   * push service answers the server's next push with 410 Gone, which drops it
   * there too. Telling the server now saves that attempt, so a failure to
   * tell it is no failure to turn off. Also what signing out does.
   */
  async forget(): Promise<void> {
    localStorage.removeItem(OWNER_KEY);
    if (!pushSupported()) return;
    const subscription = await currentSubscription().catch(() => null);
    if (!subscription) return;
    const { endpoint } = subscription;
    await subscription.unsubscribe().catch(() => false);
    await this.api.unregisterPushSubscription(endpoint).catch(() => {});
  }

  private async serverKey(): Promise<string | null> {
    if (this.key === undefined) this.key = await this.api.vapidPublicKey();
    return this.key;
  }

  private async resubscribe(old: PushSubscription, key: string): Promise<PushSubscription> {
    await this.api.unregisterPushSubscription(old.endpoint).catch(() => {});
    await old.unsubscribe();
    const registration = await navigator.serviceWorker.ready;
    return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlBytes(key) });
  }

  private set(state: PushState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    const label = BUTTON[this.state];
    this.element.dataset.state = this.state;
    this.text.textContent = STATE_TEXT[this.state];
    this.button.hidden = label === undefined;
    this.button.textContent = label ?? '';
    // Busy, it stays focusable (a disabled button would drop the keyboard's focus); a press then does nothing.
    this.button.setAttribute('aria-disabled', String(this.state === 'enabling' || this.state === 'disabling'));
    this.problem.textContent = this.error;
  }
}

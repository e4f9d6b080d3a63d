import type { BrowserContext, Page } from 'playwright-core';
import { eventually } from './client.js';
import type { PushService, TestPushSubscription } from './push-service.js';

/**
 * Web Push in a test browser. Headless Chromium on a closed network has no
 * push service: PushManager.subscribe fails ("Registration failed"). Only
 * that edge is replaced here; the rest is the browser's own:
 *
 * - stubPushManager(): PushManager.subscribe and getSubscription in the
 *   context's pages are replaced by calls (a Playwright binding, outside the
 *   page's CSP) to a local push service (web-push-testing on loopback,
 *   test/support/push-service.ts), which makes the subscription for the
 *   page's applicationServerKey as Chrome's push service would: an endpoint
 *   and the p256dh and auth keys the payloads are encrypted for. The
 *   permission prompt, the service worker's registration and everything the
 *   page and the server do with the subscription are real; the server's
 *   pushes go to that service, which checks their VAPID signature and
 *   decrypts them.
 * - deliverPush(): what the push service would then do, hand the payload to
 *   the browser, is DevTools' ServiceWorker.deliverPushMessage: the real
 *   `push` event in the site's real service worker (web/src/sw.ts), which
 *   shows the notification (read back with shownNotifications()).
 *
 * Chromium offers no way to click a notification from outside; the click's
 * logic is tested without a browser (test/unit/web-notifications.test.ts),
 * and where it leads (`/#room=<id>`) through the page.
 */

/** A subscription the stubbed PushManager handed out, with the key the page subscribed with (base64url). */
export type BrowserSubscription = TestPushSubscription & { applicationServerKey: string };

export interface StubbedPushManager {
  /** The subscription the context's pages hold now (null: none, or unsubscribed). */
  current(): BrowserSubscription | null;
}

export async function stubPushManager(context: BrowserContext, push: PushService): Promise<StubbedPushManager> {
  let current: BrowserSubscription | null = null;
  await context.exposeBinding('__pushServiceSubscribe', async (_source, applicationServerKey: string) => {
    current = { ...(await push.subscribe(applicationServerKey)), applicationServerKey };
    return current;
  });
  await context.exposeBinding('__pushServiceCurrent', () => current);
  await context.exposeBinding('__pushServiceUnsubscribe', () => {
    current = null;
  });
  await context.addInitScript(() => {
    type Held = { endpoint: string; keys: { p256dh: string; auth: string }; applicationServerKey: string };
    const edge = window as unknown as {
      __pushServiceSubscribe(key: string): Promise<Held>;
      __pushServiceCurrent(): Promise<Held | null>;
      __pushServiceUnsubscribe(): Promise<void>;
    };
    const toBase64Url = (bytes: Uint8Array) =>
      btoa(String.fromCharCode(...bytes))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
    const fromBase64Url = (text: string) =>
      Uint8Array.from(
        atob(
          text
            .replace(/-/g, '+')
            .replace(/_/g, '/')
            .padEnd(Math.ceil(text.length / 4) * 4, '='),
        ),
        (c) => c.charCodeAt(0),
      ).buffer;
    /** What PushSubscription offers, over the push service's answer. */
    const subscriptionOf = (held: Held) => ({
      endpoint: held.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: fromBase64Url(held.applicationServerKey) },
      getKey: (name: 'p256dh' | 'auth') => fromBase64Url(held.keys[name]),
      toJSON: () => ({ endpoint: held.endpoint, expirationTime: null, keys: held.keys }),
      unsubscribe: async () => {
        await edge.__pushServiceUnsubscribe();
        return true;
      },
    });
    PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
      const key = options?.applicationServerKey;
      if (!key || typeof key === 'string') throw new DOMException('applicationServerKey as bytes expected', 'InvalidAccessError');
      const bytes = key instanceof ArrayBuffer ? new Uint8Array(key) : new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
      return subscriptionOf(await edge.__pushServiceSubscribe(toBase64Url(bytes)));
    };
    PushManager.prototype.getSubscription = async function () {
      const held = await edge.__pushServiceCurrent();
      return held ? subscriptionOf(held) : null;
    };
  });
  return { current: () => current };
}

/** Hands a push's payload to the site's service worker, as the browser does when its push service delivers one. */
export async function deliverPush(page: Page, origin: string, payload: string): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
  await cdp.send('ServiceWorker.enable');
  const scope = `${origin}/`;
  // Reported in events just after enable.
  const { registrationId } = await eventually(
    async () => registrations.find((r) => r.scopeURL === scope && !r.isDeleted),
    `the service worker registered for ${scope}`,
  );
  await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: payload });
  await cdp.detach();
}

export interface ShownNotification {
  title: string;
  body: string;
  tag: string;
  data: unknown;
}

/** The notifications the site's service worker shows now (a page of the site asks its registration). */
export const shownNotifications = (page: Page): Promise<ShownNotification[]> =>
  page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration('/');
    const shown = (await registration?.getNotifications()) ?? [];
    return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown }));
  });

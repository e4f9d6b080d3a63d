import { FALLBACK_NOTIFICATION, notificationOf, openTarget, parsePushPayload, type ClientsLike } from './push-notification.js';

/**
 * The service worker, served at /sw.js (scope: the whole site) and built
 * on its own as one classic script (web/vite.config.ts). It handles Web
 * Push only: a push becomes a notification, one per room (push-notification.ts),
 * and a click on one opens that room in the site's tab or a new one. No
 * fetch handler: the page's requests go to the network as before.
 */

/** The parts of the service worker's global scope used here: the DOM library the rest of web/ is typed by has none. */
interface ExtendableEventLike extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface PushEventLike extends ExtendableEventLike {
  readonly data: { json(): unknown } | null;
}
interface NotificationEventLike extends ExtendableEventLike {
  readonly notification: Notification;
}
interface ServiceWorkerScope {
  readonly registration: ServiceWorkerRegistration;
  readonly clients: ClientsLike & { claim(): Promise<void> };
  readonly location: Location;
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEventLike) => void): void;
  addEventListener(type: 'push', listener: (event: PushEventLike) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: NotificationEventLike) => void): void;
}

const worker = self as unknown as ServiceWorkerScope;

// A new version takes over at once, and so do the site's open tabs: a click can only navigate a tab its worker controls.
worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('push', (event) => {
  let data: unknown = null;
  try {
    data = event.data?.json() ?? null;
  } catch {
    // Not JSON: the fallback below.
  }
  const payload = parsePushPayload(data);
  const { title, options } = payload ? notificationOf(payload) : FALLBACK_NOTIFICATION;
  // Shown before the event ends, or the browser shows its own "updated in the background" notice.
  event.waitUntil(worker.registration.showNotification(title, options));
});

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  event.waitUntil(openTarget(worker.clients, data?.url, worker.location.origin));
});

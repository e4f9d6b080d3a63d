/**
 * What the service worker (sw.ts) does with a push and with a click on its
 * notification, as functions of their inputs: the server's payload
 * (PushPayload, src/features/notifications/push.notifier.ts) made into a
 * notification, and the tab a click brings up. Apart from sw.ts so that
 * test/unit/web-push-notification.test.ts runs them without a browser.
 */

/** What the server pushes: one per member and room per batch window, with the newest message's preview. */
export interface PushPayload {
  roomId: string;
  /** null for a DIRECT room. */
  roomName: string | null;
  /** Messages that notified the member in this room during the window (the previewed one included). */
  count: number;
  preview: { author: string; body: string };
  /** Where the browser client opens the room: `/#room=<roomId>`. */
  url: string;
}

/** The notification of a push: showNotification(title, options). */
export interface RoomNotification {
  title: string;
  options: {
    body: string;
    /** One per room: a newer push replaces the room's older notification rather than piling up. */
    tag: string;
    /** The replacement alerts again (sound, vibration): it brings new messages. */
    renotify: boolean;
    data: { url: string; roomId: string };
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** The payload, if the push carries one of the server's (anything else: null). */
export function parsePushPayload(data: unknown): PushPayload | null {
  if (!isRecord(data) || !isRecord(data.preview)) return null;
  const { roomId, roomName, count, preview, url } = data;
  if (typeof roomId !== 'string' || typeof url !== 'string' || typeof count !== 'number') return null;
  if (roomName !== null && typeof roomName !== 'string') return null;
  if (typeof preview.author !== 'string' || typeof preview.body !== 'string') return null;
  return { roomId, roomName, count, preview: { author: preview.author, body: preview.body }, url };
}

/**
 * Title: the room's name ("Direct message" for a DIRECT room, which has
 * none). Body: "author: text", and "(and N more)" when the window held
 * more messages than the one shown. Tagged by room.
 */
export function notificationOf(payload: PushPayload): RoomNotification {
  const { author, body } = payload.preview;
  const said = body.trim() === '' ? `${author} sent a file` : `${author}: ${body}`;
  const more = payload.count > 1 ? ` (and ${payload.count - 1} more)` : '';
  return {
    title: payload.roomName ?? 'Direct message',
    options: {
      body: said + more,
      tag: `room:${payload.roomId}`,
      renotify: true,
      data: { url: payload.url, roomId: payload.roomId },
    },
  };
}

/** A notification for a push that is not the server's payload: the browser wants one shown for every push. */
export const FALLBACK_NOTIFICATION: RoomNotification = {
  title: 'Chat',
  options: { body: 'You have new messages.', tag: 'chat', renotify: false, data: { url: '/', roomId: '' } },
};

/** The page a click opens: the notification's URL on this site; any other (or none) opens the site's root. */
export function targetUrl(url: unknown, origin: string): string {
  try {
    const target = new URL(typeof url === 'string' ? url : '/', origin);
    if (target.origin === origin) return target.href;
  } catch {
    // Not a URL: the root below.
  }
  return new URL('/', origin).href;
}

/** A tab of the site, as the service worker's Clients API lists it (WindowClient). */
export interface WindowClientLike {
  readonly url: string;
  readonly focused: boolean;
  readonly visibilityState: string;
  focus(): Promise<WindowClientLike>;
  /** Rejects for a tab this worker does not control. */
  navigate(url: string): Promise<WindowClientLike | null>;
}

/** The service worker's `clients` (Clients), as far as a click uses it. */
export interface ClientsLike {
  matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<readonly WindowClientLike[]>;
  openWindow(url: string): Promise<unknown>;
}

/**
 * The tab a click brings up: the focused one, else one in view, else the
 * first listed (the browser lists the most recently focused first); null
 * when none of the site's tabs is open.
 */
export function pickClient<T extends Pick<WindowClientLike, 'url' | 'focused' | 'visibilityState'>>(
  clients: readonly T[],
  origin: string,
): T | null {
  const ours = clients.filter((client) => {
    try {
      return new URL(client.url).origin === origin;
    } catch {
      return false;
    }
  });
  return ours.find((c) => c.focused) ?? ours.find((c) => c.visibilityState === 'visible') ?? ours[0] ?? null;
}

/**
 * A click on a notification: the site's open tab is focused and sent to the
 * notification's URL (the page opens the room named by `#room=`, on load or
 * on hashchange); with no tab open, a new window opens there. Focus comes
 * first: the browser allows it only while the click is fresh. A tab this
 * worker does not control (one loaded before it was installed and never
 * claimed, or with a hard reload) cannot be navigated: a window opens instead.
 */
export async function openTarget(clients: ClientsLike, url: unknown, origin: string): Promise<void> {
  const target = targetUrl(url, origin);
  const client = pickClient(await clients.matchAll({ type: 'window', includeUncontrolled: true }), origin);
  if (!client) {
    await clients.openWindow(target);
    return;
  }
  const focused = await client.focus().catch(() => client);
  if (focused.url === target) return;
  try {
    await focused.navigate(target);
  } catch {
    await clients.openWindow(target);
  }
}

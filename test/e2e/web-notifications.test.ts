import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pushSubscriptions } from '../../src/db/schema.js';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { deliverPush, shownNotifications, stubPushManager, type StubbedPushManager } from '../support/browser-push.js';
import { CHROMIUM, chromiumPresent as present } from '../support/chromium.js';
import { eventually, gqlOk } from '../support/client.js';
import { TEST_VAPID, testPush } from '../support/config.js';
import { startPushService, type PushService } from '../support/push-service.js';
import { seeder, type Seed, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { ensureWebBuild, root } from '../support/spawned.js';
import {
  axeViolations,
  DESKTOP,
  noErrors,
  openRoom,
  PHONE,
  roomItem,
  showRooms,
  smallTargets,
  WebBrowser,
  type Viewport,
} from '../support/web-page.js';

/**
 * The browser client's notifications in Chromium (the rules: the contract's
 * "Notifications for people who are not connected"): "Enable notifications"
 * in the room list, Web Push from the server to the page's service worker,
 * a room's level and mute in its Notifications panel, and `#room=<id>`, where
 * a notification's click leads. On a phone (390×844, touch) and a desktop
 * (1280×800) screen, with the axe-core check and, on the phone, 44 px
 * targets. What is real and what stands in for the browser's push service:
 * test/support/browser-push.ts. Screenshots go to .data/screenshots/.
 */

const VIEWPORTS: Viewport[] = [PHONE, DESKTOP];
/** The server's batch window: short, and members count as away at once (PUSH_OFFLINE_MS 0). */
const BATCH_MS = 1000;
const PUSH_WAIT_MS = 15_000;
const SET_LEVEL = `mutation($r: ID!, $level: NotificationLevel!) {
  setRoomNotifications(roomId: $r, level: $level, mutedUntil: null) { id }
}`;
const ROOM_NOTIFICATIONS = 'query($id: ID!) { room(id: $id) { notificationLevel notificationsMutedUntil } }';

/** One local push service for the file (web-push-testing keeps its state in a module: one per process). */
let push: PushService;
beforeAll(async () => {
  if (present) push = await startPushService();
});
afterAll(async () => {
  await push?.close();
});

for (const backendName of present ? backendNames() : []) {
  describe(`Browser client notifications in Chromium [${backendName}]`, () => {
    let backend: Backend;
    let app: App;
    let seed: Seed;
    const web = new WebBrowser(backendName);

    beforeAll(async () => {
      ensureWebBuild();
      backend = await createBackend(backendName);
      app = await backend.startApp({
        webDir: join(root, 'web/dist'),
        push: testPush({ batchMs: BATCH_MS, offlineMs: 0 }),
      });
      seed = seeder(app);
      await web.launch();
    });
    afterEach(async () => {
      await web.closeContexts();
    });
    afterAll(async () => {
      await web.close();
      await backend?.dispose();
    });

    const shot = (page: Page, viewport: Viewport, what: string) => web.shot(page, viewport, what);
    const pageOf = (user: TestUser, viewport: Viewport, prepare?: (context: BrowserContext) => Promise<void>, at = app) =>
      web.pageOf(user, viewport, at.url, prepare);

    /** A page whose browser allows this site's notifications, its push service the local one. */
    async function notifyingPageOf(user: TestUser, viewport: Viewport): Promise<{ page: Page; browser: StubbedPushManager }> {
      let browser: StubbedPushManager | null = null;
      const page = await pageOf(user, viewport, async (context) => {
        await context.grantPermissions(['notifications'], { origin: app.url });
        browser = await stubPushManager(context, push);
      });
      return { page, browser: browser! };
    }

    const pushState = (page: Page) => page.getByTestId('push-control').getAttribute('data-state');
    const endpointsOf = async (user: TestUser) => {
      const { db } = await backend.database();
      const rows = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, user.id));
      return rows.map((row) => row.endpoint);
    };
    const notificationsOf = async (user: TestUser, room: TestRoom) =>
      (await gqlOk(app, ROOM_NOTIFICATIONS, { id: room.id }, user.token)).room as {
        notificationLevel: string;
        notificationsMutedUntil: string | null;
      };

    for (const viewport of VIEWPORTS) {
      describe(`at ${viewport.width}×${viewport.height} (${viewport.name})`, () => {
        it('turns notifications on from the room list (permission, service worker, a subscription with the server’s key, registered), keeps them on through a reload, and turns them off (signing out too)', async () => {
          const bob = await seed.user('bob');
          const { page, browser } = await notifyingPageOf(bob, viewport);
          await showRooms(page);
          await expect.poll(() => pushState(page), { timeout: 10_000 }).toBe('disabled');
          const toggle = page.getByTestId('push-toggle');
          expect(await toggle.textContent()).toBe('Enable notifications');
          expect(await axeViolations(page), 'the notifications control').toEqual([]);
          if (viewport.touch) expect(await smallTargets(page)).toEqual([]);
          await toggle.click();
          await expect.poll(() => pushState(page), { timeout: 10_000 }).toBe('enabled');
          expect(await toggle.textContent()).toBe('Turn off notifications');
          expect(await page.getByTestId('push-state').textContent()).toContain('Notifications are on in this browser');
          await shot(page, viewport, 'push-enabled');

          // The site's service worker took over, and the subscription was made with the server's key and registered for bob.
          const worker = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
          expect(worker).toBe(`${app.url}/sw.js`);
          const subscription = browser.current()!;
          expect(subscription.applicationServerKey).toBe(TEST_VAPID.publicKey);
          expect(await endpointsOf(bob)).toEqual([subscription.endpoint]);

          // A reload finds the subscription and registers it again (idempotent): still on.
          await page.reload();
          await showRooms(page);
          await expect.poll(() => pushState(page), { timeout: 10_000 }).toBe('enabled');
          expect(browser.current()?.endpoint).toBe(subscription.endpoint);

          await page.getByTestId('push-toggle').click();
          await expect.poll(() => pushState(page)).toBe('disabled');
          expect(browser.current()).toBeNull();
          await expect.poll(() => endpointsOf(bob)).toEqual([]);

          // On again, then signing out ends them too: the next person at this browser gets none of bob's.
          await page.getByTestId('push-toggle').click();
          await expect.poll(() => pushState(page), { timeout: 10_000 }).toBe('enabled');
          await expect.poll(() => endpointsOf(bob)).toEqual([browser.current()!.endpoint]);
          await page.getByTestId('sign-out').click();
          await expect.poll(() => browser.current()).toBeNull();
          await expect.poll(() => endpointsOf(bob)).toEqual([]);
          noErrors(page);
        });

        it('sets a room’s level and mute from the room menu; the API reads them, and a reload shows them', async () => {
          const { alice: _alice, bob, room } = await seed.roomWithTwoMembers();
          const page = await pageOf(bob, viewport);
          await openRoom(page, room.name);
          await page.getByTestId('notifications-toggle').click();
          const panel = page.getByTestId('notifications-panel');
          await expect.poll(() => panel.isVisible()).toBe(true);
          const level = (name: string) => panel.locator(`[data-testid=notify-level][data-level=${name}]`);
          // A GROUP room's default: mentions.
          await expect.poll(() => level('MENTIONS').getAttribute('aria-pressed')).toBe('true');
          expect(await axeViolations(page), 'the notifications panel').toEqual([]);
          if (viewport.touch) expect(await smallTargets(page)).toEqual([]);

          await level('NONE').click();
          await expect.poll(() => level('NONE').getAttribute('aria-pressed')).toBe('true');
          expect(await level('MENTIONS').getAttribute('aria-pressed')).toBe('false');
          expect(await notificationsOf(bob, room)).toEqual({ notificationLevel: 'NONE', notificationsMutedUntil: null });

          const before = Date.now();
          await panel.locator('[data-testid=notify-mute][data-mute="28800"]').click();
          await expect.poll(() => panel.getByTestId('notify-muted').count()).toBe(1);
          const after = Date.now();
          const muted = await notificationsOf(bob, room);
          expect(muted.notificationLevel).toBe('NONE');
          const until = Date.parse(muted.notificationsMutedUntil!);
          expect(until).toBeGreaterThanOrEqual(before + 8 * 3600_000 - 1000);
          expect(until).toBeLessThanOrEqual(after + 8 * 3600_000 + 1000);
          expect(await page.getByTestId('notifications-toggle').textContent()).toBe('Notifications: muted');
          // The focus stays in the panel: on Unmute, which took the choices' place.
          expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('notify-unmute');
          expect(await axeViolations(page), 'the notifications panel, muted').toEqual([]);
          await shot(page, viewport, 'room-notifications');

          // After a reload (the address keeps the room), the panel shows what the server keeps.
          await page.reload();
          await expect.poll(() => page.getByTestId('room-title').textContent(), { timeout: 10_000 }).toBe(room.name);
          await expect.poll(() => page.getByTestId('notifications-toggle').textContent()).toBe('Notifications: muted');
          await page.getByTestId('notifications-toggle').click();
          await expect.poll(() => level('NONE').getAttribute('aria-pressed')).toBe('true');
          expect(await panel.getByTestId('notify-muted').textContent()).toMatch(/^Muted until /);

          await panel.getByTestId('notify-unmute').click();
          await expect.poll(() => panel.getByTestId('notify-muted').count()).toBe(0);
          expect(await notificationsOf(bob, room)).toEqual({ notificationLevel: 'NONE', notificationsMutedUntil: null });

          await panel.locator('[data-testid=notify-mute][data-mute=forever]').click();
          await expect.poll(() => panel.getByTestId('notify-muted').textContent()).toBe('Muted until you turn it back on');
          expect(await notificationsOf(bob, room)).toEqual({
            notificationLevel: 'NONE',
            notificationsMutedUntil: '9999-12-31T23:59:59.999Z',
          });
          await level('ALL').click();
          await expect.poll(() => level('ALL').getAttribute('aria-pressed')).toBe('true');
          // A new level keeps the mute.
          expect(await notificationsOf(bob, room)).toEqual({
            notificationLevel: 'ALL',
            notificationsMutedUntil: '9999-12-31T23:59:59.999Z',
          });
          noErrors(page);
        });
      });
    }

    it('brings a message sent while the user is away to their browser as a notification per room, the newest replacing the older, whose URL opens the room', async () => {
      const { alice, bob, room } = await seed.roomWithTwoMembers();
      await gqlOk(app, SET_LEVEL, { r: room.id, level: 'ALL' }, bob.token);
      // A DIRECT room notifies of every message by default, and has no name.
      const direct: TestRoom = {
        id: (await gqlOk(app, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }', { u: bob.id }, alice.token))
          .openDirectRoom.id,
        name: '',
      };
      const { page, browser } = await notifyingPageOf(bob, DESKTOP);
      await showRooms(page);
      await page.getByTestId('push-toggle').click();
      await expect.poll(() => pushState(page), { timeout: 10_000 }).toBe('enabled');
      const subscription = browser.current()!;
      const context = page.context();

      // Bob closes the tab (the browser, and its service worker, stay): the server sees him go.
      await page.close();
      await eventually(
        async () =>
          !(
            (await gqlOk(app, 'query($q: String!) { users(query: $q) { online } }', { q: bob.username }, alice.token))
              .users as Array<{ online: boolean }>
          )[0]?.online,
        'bob away',
      );

      // The real server pushes, encrypted for the subscription's keys and signed with its VAPID key, to the local
      // push service, which checks both: one push per room for the batch window.
      await seed.send(alice, room, 'first');
      await seed.send(alice, room, 'second');
      await seed.send(alice, direct, 'psst');
      const received = async (count: number) =>
        eventually(
          async () => {
            const texts = await push.received(subscription);
            return texts.length >= count ? texts : null;
          },
          `${count} pushes`,
          PUSH_WAIT_MS,
        );
      const firstTwo = await received(2);
      const byRoom = (texts: string[], roomId: string) =>
        texts.filter((t) => (JSON.parse(t) as { roomId: string }).roomId === roomId);
      expect(byRoom(firstTwo, room.id).map((t) => JSON.parse(t))).toEqual([
        {
          roomId: room.id,
          roomName: room.name,
          count: 2,
          preview: { author: alice.username, body: 'second' },
          url: `/#room=${room.id}`,
        },
      ]);
      // The next message in the room opens a new window: a push of its own.
      await seed.send(alice, room, 'third');
      const all = await received(3);

      // Each push reaches the service worker as the browser's push service would deliver it (DevTools), in order.
      const tab = await web.newPage(context);
      await tab.goto(`${app.url}/`);
      for (const payload of all) await deliverPush(tab, app.url, payload);
      // One notification per room: the room's newer push replaced its older one.
      const expected = [
        {
          title: room.name,
          body: `${alice.username}: third`,
          tag: `room:${room.id}`,
          data: { url: `/#room=${room.id}`, roomId: room.id },
        },
        {
          title: 'Direct message',
          body: `${alice.username}: psst`,
          tag: `room:${direct.id}`,
          data: { url: `/#room=${direct.id}`, roomId: direct.id },
        },
      ].sort((a, b) => a.tag.localeCompare(b.tag));
      await expect
        .poll(async () => (await shownNotifications(tab)).sort((a, b) => a.tag.localeCompare(b.tag)), { timeout: 10_000 })
        .toEqual(expected);

      // A click sends the site's open tab to the notification's URL (web/src/push-notification.ts, openTarget; its
      // choice of tab and its fallbacks are unit-tested). Chromium cannot click a notification from outside, so the
      // service worker's own Clients API does the navigation the click does, and the page opens the room.
      await expect.poll(() => tab.getByTestId('status').getAttribute('data-status'), { timeout: 10_000 }).toBe('online');
      const [worker] = context.serviceWorkers();
      await worker!.evaluate(async (url) => {
        const scope = self as any;
        const [client] = await scope.clients.matchAll({ type: 'window' });
        await client.navigate(new URL(url, scope.location.origin).href);
      }, `/#room=${room.id}`);
      await expect.poll(() => tab.getByTestId('room-title').textContent(), { timeout: 10_000 }).toBe(room.name);
      noErrors(tab);
    }, 90_000);

    it('opens the room named by #room=<id> on load and when the address changes, puts the open room in it, and refuses a room the user is not in', async () => {
      const { alice, bob, room } = await seed.roomWithTwoMembers();
      const other = await seed.room(alice);
      await seed.invite(alice, other, bob);
      const notBobs = await seed.room(alice);
      const page = await pageOf(bob, DESKTOP);
      const title = () => page.getByTestId('room-title').textContent();

      // Loaded at the address (from another page of the site, so it is a load): the room opens once the room list is read.
      await page.goto(`${app.url}/healthz`);
      await page.goto(`${app.url}/#room=${other.id}`);
      await expect.poll(title, { timeout: 10_000 }).toBe(other.name);
      expect(await roomItem(page, other.name).getAttribute('aria-current')).toBe('page');

      // The address changes in the open page (a notification's click, a link): the same page opens that room.
      await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));
      await page.evaluate((id) => (location.hash = `#room=${id}`), room.id);
      await expect.poll(title).toBe(room.name);
      expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);

      // A room opened from the list goes into the address.
      await openRoom(page, other.name);
      await expect.poll(() => new URL(page.url()).hash).toBe(`#room=${other.id}`);

      // A room bob is not in stays closed, and the page says why.
      await page.evaluate((id) => (location.hash = `#room=${id}`), notBobs.id);
      await expect.poll(() => page.getByTestId('room-notice').textContent()).toContain('not one of your rooms');
      expect(await title()).toBe(other.name);
      expect(new URL(page.url()).hash).toBe(`#room=${other.id}`);
      noErrors(page);
    });

    it('says when notifications cannot be had: blocked by the browser, off on the server, or not supported', async () => {
      // The browser refuses the permission (no grant: headless Chromium denies the request).
      const bob = await seed.user('bob');
      const blocked = await pageOf(bob, DESKTOP);
      await expect.poll(() => pushState(blocked), { timeout: 10_000 }).toBe('disabled');
      await blocked.getByTestId('push-toggle').click();
      await expect.poll(() => pushState(blocked), { timeout: 10_000 }).toBe('blocked');
      expect(await blocked.getByTestId('push-state').textContent()).toContain('blocked for this site');
      expect(await blocked.getByTestId('push-toggle').isVisible()).toBe(false);
      expect(await axeViolations(blocked), 'the notifications control, blocked').toEqual([]);

      // A server with Web Push off (vapidPublicKey null).
      const off = await backend.startApp({ webDir: join(root, 'web/dist'), push: testPush({ vapid: null }) });
      const carol = await seeder(off).user('carol');
      const offPage = await pageOf(
        carol,
        DESKTOP,
        async (context) => {
          await context.grantPermissions(['notifications'], { origin: off.url });
        },
        off,
      );
      await expect.poll(() => pushState(offPage), { timeout: 10_000 }).toBe('off');
      expect(await offPage.getByTestId('push-toggle').isVisible()).toBe(false);

      // A browser without the Push API.
      const old = await pageOf(bob, DESKTOP, async (context) => {
        await context.addInitScript(() => delete (window as unknown as { PushManager?: unknown }).PushManager);
      });
      await expect.poll(() => pushState(old), { timeout: 10_000 }).toBe('unsupported');
      expect(await old.getByTestId('push-state').textContent()).toBe('This browser cannot show notifications from this site.');
      noErrors(blocked, offPage, old);
      await off.stop();
    });
  });
}

if (!present) {
  describe('Browser client notifications in Chromium', () => {
    it.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`, () => {});
  });
}

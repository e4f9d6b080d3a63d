import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { chromiumPresent as present } from '../support/chromium.js';
import { gqlOk } from '../support/client.js';
import { seeder, type Seed, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { ensureWebBuild, root } from '../support/spawned.js';
import {
  act,
  axeViolations,
  DESKTOP,
  message,
  noErrors,
  openRoom,
  PHONE,
  roomItem,
  typeAndSend,
  WebBrowser,
  type Viewport,
} from '../support/web-page.js';

/**
 * The browser client's moderation in Chromium: role badges, a moderator's
 * mute (the muted member's refused send explained with a countdown) and
 * unmute, kicks, moderator deletes, reports, an admin's room settings, and
 * the owner's refused leave in plain words; with the axe-core check on the
 * new controls. The key test runs on a desktop (1280×800) and a phone
 * (390×844, touch); screenshots go to .data/screenshots/.
 */

const seen = (page: Page, text: string) =>
  expect.poll(() => message(page, text).count(), { timeout: 15_000, message: `"${text}" shown` }).toBeGreaterThan(0);
const member = (page: Page, user: TestUser) => page.locator(`[data-testid=member][data-username="${user.username}"]`);

for (const backendName of present ? backendNames() : []) {
  describe(`Browser client moderation in Chromium [${backendName}]`, () => {
    let backend: Backend;
    let app: App;
    let seed: Seed;
    const web = new WebBrowser(backendName);

    beforeAll(async () => {
      ensureWebBuild();
      backend = await createBackend(backendName);
      app = await backend.startApp({ webDir: join(root, 'web/dist') });
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

    const pageOf = (user: TestUser, viewport: Viewport) => web.pageOf(user, viewport, app.url);
    const shot = (page: Page, viewport: Viewport, what: string) => web.shot(page, viewport, what);

    /** alice owns a PUBLIC room where carol is a MODERATOR and bob a MEMBER. */
    async function moderatedRoom() {
      const { alice, bob, carol, room } = await seed.roomOfThree();
      await gqlOk(
        app,
        'mutation($r: ID!, $u: ID!) { setMemberRole(roomId: $r, userId: $u, role: MODERATOR) { role } }',
        { r: room.id, u: carol.id },
        alice.token,
      );
      return { alice, bob, carol, room };
    }

    const badges = (page: Page) =>
      page.$$eval('[data-testid=member]', (items) =>
        Object.fromEntries(
          items.map((li) => [
            li.getAttribute('data-username'),
            li.querySelector('[data-testid=role-badge]')?.textContent ?? null,
          ]),
        ),
      );

    for (const viewport of [DESKTOP, PHONE]) {
      it(`shows role badges, and a moderator's mute refuses the member's send with a countdown until the unmute (${viewport.name})`, async () => {
        const { alice, bob, carol, room } = await moderatedRoom();
        const [c, b] = [await pageOf(carol, viewport), await pageOf(bob, viewport)];
        await openRoom(c, room.name);
        await openRoom(b, room.name);

        // Role badges, in words, for everyone.
        await c.getByTestId('members-toggle').click();
        await expect
          .poll(() => badges(c))
          .toEqual({ [alice.username]: 'Owner', [carol.username]: 'Moderator', [bob.username]: null });
        // A moderator gets actions only on those ranked below: bob, not the owner.
        expect(await member(c, alice).getByTestId('moderate-toggle').count()).toBe(0);
        await member(c, bob).getByTestId('moderate-toggle').click();
        await member(c, bob).getByTestId('mute-duration').selectOption('600');
        // A presence change re-renders the panel: the choice made stays made.
        await pageOf(alice, viewport);
        await expect
          .poll(() => c.locator(`[data-testid=member][data-username="${alice.username}"] [data-testid=presence]`).textContent())
          .toBe('online');
        expect(await member(c, bob).getByTestId('mute-duration').inputValue()).toBe('600');
        expect(await axeViolations(c), 'members with moderation open').toEqual([]);
        await member(c, bob).getByTestId('mute').click();
        await expect.poll(() => member(c, bob).getByTestId('muted-badge').count()).toBe(1);

        // bob's send is refused, and he is told why and for how long, counting down.
        await typeAndSend(b, 'can I still talk?');
        const failed = b.locator('[data-testid=message][data-state=failed]');
        await expect.poll(() => failed.getByTestId('outgoing-note').textContent()).toBe('Not sent: you are muted in this room');
        const restriction = b.getByTestId('restriction');
        await expect.poll(() => restriction.isVisible()).toBe(true);
        expect(await restriction.getAttribute('data-reason')).toBe('MUTED');
        expect(await restriction.textContent()).toMatch(
          /^A moderator muted you in this room\. .* for (9|10) min( \d+ s)? more\.$/,
        );
        const first = await restriction.textContent();
        await expect.poll(() => restriction.textContent(), { timeout: 5_000 }).not.toBe(first);
        expect(await axeViolations(b), 'muted member').toEqual([]);
        await shot(b, viewport, 'muted-countdown');

        // The unmute lifts it live; the refused message goes out on Retry, and new ones go too.
        await member(c, bob).getByTestId('unmute').click();
        await expect.poll(() => restriction.isVisible()).toBe(false);
        await failed.getByTestId('retry').click();
        await seen(c, 'can I still talk?');
        await typeAndSend(b, 'back again');
        await seen(c, 'back again');
        noErrors(c, b);
      });
    }

    it('lets a moderator delete and kick a member, who is told plainly', async () => {
      const { bob, carol, room } = await moderatedRoom();
      await seed.send(bob, room, 'something rude');
      const [c, b] = [await pageOf(carol, DESKTOP), await pageOf(bob, DESKTOP)];
      await openRoom(c, room.name);
      await openRoom(b, room.name);
      await seen(c, 'something rude');

      await act(c, 'something rude', 'delete');
      await c.getByTestId('confirm-delete').click();
      await seen(b, 'This message was deleted by a moderator.');

      await c.getByTestId('members-toggle').click();
      await member(c, bob).getByTestId('moderate-toggle').click();
      await member(c, bob).getByTestId('kick').click();
      await expect
        .poll(() => b.getByTestId('room-notice').textContent(), { timeout: 10_000 })
        .toMatch(/^A moderator removed you from “.+”\./);
      expect(await roomItem(b, room.name).count()).toBe(0);
      await expect.poll(() => member(c, bob).count()).toBe(0);
      await shot(b, DESKTOP, 'kicked');
      noErrors(c, b);
    });

    it('reports a message with a reason and details, which a moderator finds through the API', async () => {
      const { alice, bob, carol, room } = await moderatedRoom();
      await seed.send(alice, room, 'report me');
      const b = await pageOf(bob, DESKTOP);
      await openRoom(b, room.name);
      await seen(b, 'report me');

      await act(b, 'report me', 'report');
      const form = b.getByTestId('report-form');
      await form.getByTestId('report-reason').selectOption('HARASSMENT');
      await form.getByTestId('report-details').fill('aimed at me twice');
      expect(await axeViolations(b), 'report form').toEqual([]);
      await form.getByTestId('send-report').click();
      await expect.poll(() => message(b, 'report me').getByTestId('reported').count()).toBe(1);
      expect(await message(b, 'report me').getByTestId('report').count()).toBe(0);
      await shot(b, DESKTOP, 'reported');

      const { reports } = await gqlOk(
        app,
        'query($r: ID!) { reports(roomId: $r) { reason details status reporter { id } message { body } } }',
        { r: room.id },
        carol.token,
      );
      expect(reports).toEqual([
        {
          reason: 'HARASSMENT',
          details: 'aimed at me twice',
          status: 'OPEN',
          reporter: { id: bob.id },
          message: { body: 'report me' },
        },
      ]);
      noErrors(b);
    });

    it('lets an admin set slow mode and freeze the room; members are told why their send waits or is refused', async () => {
      const { alice, bob, room } = await moderatedRoom();
      const [a, b] = [await pageOf(alice, DESKTOP), await pageOf(bob, DESKTOP)];
      await openRoom(a, room.name);
      await openRoom(b, room.name);
      // A MEMBER has no settings.
      expect(await b.getByTestId('settings-toggle').count()).toBe(0);

      await a.getByTestId('settings-toggle').click();
      await a.getByTestId('slow-mode').selectOption('900');
      expect(await axeViolations(a), 'settings').toEqual([]);
      await a.getByTestId('save-settings').click();
      await expect.poll(() => b.getByTestId('room-kind').textContent()).toContain('slow mode: one message per 15 min');

      await typeAndSend(b, 'first in slow mode');
      await seen(a, 'first in slow mode');
      await typeAndSend(b, 'second in slow mode');
      const restriction = b.getByTestId('restriction');
      await expect.poll(() => restriction.getAttribute('data-reason')).toBe('SLOW_MODE');
      expect(await restriction.textContent()).toMatch(
        /^Slow mode is on in this room: you can send your next message in (14|15) min/,
      );
      await expect
        .poll(() => b.locator('[data-testid=message][data-state=retrying] [data-testid=outgoing-note]').textContent())
        .toBe('slow mode, waiting…');

      await a.getByTestId('settings-toggle').click();
      await a.getByTestId('slow-mode').selectOption('0');
      await a.getByTestId('frozen').check();
      await a.getByTestId('save-settings').click();
      await expect.poll(() => restriction.getAttribute('data-reason')).toBe('ROOM_FROZEN');
      expect(await restriction.textContent()).toBe('This room is frozen: only its moderators can send, react or type for now.');
      await shot(b, DESKTOP, 'frozen');
      noErrors(a, b);
    });

    it('tells the owner to hand the room over first instead of leaving it', async () => {
      const { alice, room } = await moderatedRoom();
      const a = await pageOf(alice, DESKTOP);
      await openRoom(a, room.name);
      await expect.poll(() => a.getByTestId('members-toggle').textContent()).toBe('Members (3)');
      await a.getByTestId('leave').click();
      expect(await a.getByTestId('leave-owner').textContent()).toContain('hand the room over first');
      await a.getByTestId('confirm-leave').click();
      await expect.poll(() => a.getByTestId('room-notice').textContent()).toContain('hand the room over first');
      expect(await roomItem(a, room.name).count()).toBe(1);
      noErrors(a);
    });
  });
}

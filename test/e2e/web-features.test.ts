import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { CHROMIUM, chromiumPresent as present } from '../support/chromium.js';
import { gqlOk } from '../support/client.js';
import { seeder, uniqueName, type Seed, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { ensureWebBuild, root } from '../support/spawned.js';
import { jpegWithExif, pdf, png } from '../support/uploads.js';
import {
  act,
  axeViolations,
  DESKTOP,
  message,
  noErrors,
  openRoom,
  PHONE,
  roomItem,
  showRooms,
  smallTargets,
  status,
  typeAndSend,
  WebBrowser,
  type Viewport,
} from '../support/web-page.js';

/**
 * The browser client's features in Chromium, on a phone (390×844, touch) and
 * a desktop (1280×800) screen: what a user does with the API through the
 * page, another user's page (or the API) seeing it live, the accessibility
 * check (axe-core) and touch-sized targets. One server and one browser per
 * backend; each test has users and rooms of its own. Screenshots go to
 * .data/screenshots/ (ignored by git).
 */

const VIEWPORTS: Viewport[] = [PHONE, DESKTOP];

/** The stored messages the page shows, in page order: [seq, body]. */
const shown = (page: Page) =>
  page.$$eval('[data-testid=message][data-state=stored]', (items) =>
    items.map((li) => [Number(li.getAttribute('data-seq')), li.querySelector('[data-testid=body]')?.textContent ?? ''] as const),
  );

/** Waits until the page shows a stored message with this body. */
const seen = (page: Page, body: string) =>
  expect
    .poll(async () => (await shown(page)).some(([, b]) => b === body), { timeout: 15_000, message: `"${body}" shown` })
    .toBe(true);

/** Whether an element is inside the message pane's visible part. */
const inView = (page: Page, locator: Locator) =>
  locator.evaluate((el) => {
    const pane = el.closest('[data-testid=scroller]')!.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    return box.bottom > pane.top && box.top < pane.bottom;
  });

for (const backendName of present ? backendNames() : []) {
  describe(`Browser client features in Chromium [${backendName}]`, () => {
    let backend: Backend;
    let app: App;
    let other: App;
    let seed: Seed;
    const web = new WebBrowser(backendName);

    beforeAll(async () => {
      ensureWebBuild();
      backend = await createBackend(backendName);
      const webDir = join(root, 'web/dist');
      [app, other] = await Promise.all([backend.startApp({ webDir }), backend.startApp({ webDir })]);
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

    const newContext = (viewport: Viewport) => web.newContext(viewport);
    const newPage = (context: BrowserContext) => web.newPage(context);
    /** A page signed in as `user` (the session the sign-in page would store), its socket live. */
    const pageOf = (user: TestUser, viewport: Viewport, at: App = app) => web.pageOf(user, viewport, at.url);
    const shot = (page: Page, viewport: Viewport, what: string) => web.shot(page, viewport, what);

    async function twoInARoom(visibility: 'PUBLIC' | 'PRIVATE' = 'PUBLIC') {
      const [alice, bob] = await seed.users('alice', 'bob');
      const room = await seed.room(alice, visibility);
      await seed.invite(alice, room, bob);
      return { alice, bob, room };
    }

    for (const viewport of VIEWPORTS) {
      describe(`at ${viewport.width}×${viewport.height} (${viewport.name})`, () => {
        it('edits and deletes one’s own messages, and the other member sees both live', async () => {
          const { alice, bob, room } = await twoInARoom();
          const [a, b] = [await pageOf(alice, viewport), await pageOf(bob, viewport)];
          await openRoom(a, room.name);
          await openRoom(b, room.name);
          await typeAndSend(a, 'frist draft');
          await seen(b, 'frist draft');
          await typeAndSend(b, 'a message of bob');
          await seen(a, 'a message of bob');

          // Only one's own messages can be edited; bob's has no Edit for alice, and alice's none for bob.
          expect(await message(a, 'a message of bob').getByTestId('edit').count()).toBe(0);
          expect(await message(b, 'frist draft').getByTestId('edit').count()).toBe(0);
          expect(await message(b, 'frist draft').getByTestId('delete').count()).toBe(0);

          await act(a, 'frist draft', 'edit');
          const input = a.getByTestId('edit-input');
          await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
          await input.fill('first draft, fixed');
          await input.press('Enter');
          await seen(b, 'first draft, fixed');
          await expect.poll(() => message(b, 'first draft, fixed').locator('.edited').count()).toBe(1);
          await shot(a, viewport, 'edited');

          await act(a, 'first draft, fixed', 'delete');
          await a.getByTestId('confirm-delete').click();
          for (const page of [a, b]) {
            await seen(page, 'This message was deleted.');
            expect((await shown(page)).map(([, body]) => body)).toEqual(['This message was deleted.', 'a message of bob']);
          }
          await shot(b, viewport, 'deleted');
          noErrors(a, b);
        });

        it('reacts through the picker, shows reactions under messages live, one added through the API too, and takes one back', async () => {
          const { alice, bob, room } = await twoInARoom();
          const sent = await seed.send(bob, room, 'react to this');
          const [a, b] = [await pageOf(alice, viewport), await pageOf(bob, viewport)];
          await openRoom(a, room.name);
          await openRoom(b, room.name);
          await seen(a, 'react to this');
          await seen(b, 'react to this');

          await act(a, 'react to this', 'react');
          await expect.poll(() => a.getByTestId('picker').count()).toBe(1);
          await a.locator('[data-testid=pick][data-emoji="🎉"]').click();
          const chip = (page: Page, emoji: string) =>
            message(page, 'react to this').locator(`[data-testid=reaction][data-emoji="${emoji}"]`);
          await expect.poll(() => chip(a, '🎉').getAttribute('aria-pressed')).toBe('true');
          await expect.poll(() => chip(b, '🎉').getAttribute('data-count'), { timeout: 10_000 }).toBe('1');
          expect(await chip(b, '🎉').getAttribute('aria-pressed')).toBe('false');
          expect(await a.getByTestId('picker').count()).toBe(0);

          // A reaction added through the API reaches both pages.
          await gqlOk(app, 'mutation($m: ID!) { addReaction(messageId: $m, emoji: "👍") { id } }', { m: sent.id }, bob.token);
          for (const page of [a, b])
            await expect.poll(() => chip(page, '👍').getAttribute('data-count'), { timeout: 10_000 }).toBe('1');
          // Bob adds his 🎉 from the chip: 2; alice takes hers back: 1 on both pages.
          await chip(b, '🎉').click();
          await expect.poll(() => chip(a, '🎉').getAttribute('data-count'), { timeout: 10_000 }).toBe('2');
          await shot(a, viewport, 'reactions');
          await chip(a, '🎉').click();
          for (const page of [a, b])
            await expect.poll(() => chip(page, '🎉').getAttribute('data-count'), { timeout: 10_000 }).toBe('1');
          expect(await chip(a, '🎉').getAttribute('aria-pressed')).toBe('false');
          noErrors(a, b);
        });

        it('replies with a quote of the original, and the quote jumps to the original, even one far back in history', async () => {
          const { alice, bob, room } = await twoInARoom();
          const original = await seed.send(bob, room, 'the very first message');
          for (let i = 1; i <= 70; i++) await seed.send(bob, room, `filler ${i}`);
          await seed.send(bob, room, 'answering the first one', { replyToId: original.id });
          // Alice has read them all: the room opens at its newest page, not at a first unread message.
          await gqlOk(app, 'mutation($r: ID!) { markRead(roomId: $r, seq: 1000) { id } }', { r: room.id }, alice.token);
          const [a, b] = [await pageOf(alice, viewport), await pageOf(bob, viewport)];
          await openRoom(a, room.name);
          await openRoom(b, room.name);
          await seen(a, 'answering the first one');
          expect((await shown(a)).some(([seq]) => seq === original.seq)).toBe(false); // one page, far from the start

          // Replying from the page: the composer says to what, the message quotes it, on both pages.
          await act(a, 'filler 70', 'reply');
          await expect.poll(() => a.getByTestId('replying').textContent()).toContain('filler 70');
          await typeAndSend(a, 'replying to filler seventy');
          await seen(b, 'replying to filler seventy');
          for (const page of [a, b]) {
            await expect
              .poll(() => message(page, 'replying to filler seventy').getByTestId('reply-quote').textContent())
              .toContain('filler 70');
          }
          expect(await a.getByTestId('replying').isVisible()).toBe(false);

          // The quote of a reply to seq 1 jumps there: history is read back, and the original shown and focused.
          await message(a, 'answering the first one').getByTestId('reply-quote').click();
          const first = a.locator(`[data-testid=message][data-seq="${original.seq}"]`);
          await expect.poll(() => first.count(), { timeout: 15_000 }).toBe(1);
          await expect.poll(() => first.getAttribute('class')).toContain('highlighted');
          await expect.poll(() => inView(a, first)).toBe(true);
          expect(await first.evaluate((el) => el === document.activeElement)).toBe(true);
          await shot(a, viewport, 'reply-jump');
          noErrors(a, b);
        });

        it('searches messages and opens the room of a result at the message', async () => {
          const { alice, bob, room } = await twoInARoom();
          const word = `needle${uniqueName('w').replace(/[^a-z0-9]/g, '')}`;
          await seed.send(bob, room, 'nothing here');
          const hit = await seed.send(bob, room, `the ${word} is here`);
          for (let i = 1; i <= 60; i++) await seed.send(bob, room, `later ${i}`);
          const elsewhere = await seed.room(alice);
          await seed.send(alice, elsewhere, 'another room');
          const a = await pageOf(alice, viewport);
          await openRoom(a, elsewhere.name);

          await showRooms(a);
          await a.getByTestId('search-input').fill(word);
          await a.getByTestId('search').click();
          const result = a.getByTestId('search-result');
          await expect.poll(() => result.count(), { timeout: 10_000 }).toBe(1);
          expect(await result.textContent()).toContain(room.name);
          expect(await result.textContent()).toContain(bob.username);
          await shot(a, viewport, 'search');
          await result.click();
          await expect.poll(() => a.getByTestId('room-title').textContent()).toBe(room.name);
          const target = a.locator(`[data-testid=message][data-seq="${hit.seq}"]`);
          await expect.poll(() => target.count(), { timeout: 15_000 }).toBe(1);
          await expect.poll(() => inView(a, target)).toBe(true);
          expect(await target.getAttribute('class')).toContain('highlighted');
          expect(await a.getByTestId('search-panel').isVisible()).toBe(false);
          noErrors(a);
        });

        it('creates a private room and invites someone found by username, who gets it live', async () => {
          const [alice, bob, carol] = await seed.users('alice', 'bob', 'carol');
          const [a, b, c] = [await pageOf(alice, viewport), await pageOf(bob, viewport), await pageOf(carol, viewport)];
          const name = uniqueName('secret');
          await showRooms(a);
          await a.getByTestId('create-room-input').fill(name);
          await a.getByTestId('create-private').check();
          await a.getByTestId('create-room').click();
          await expect.poll(() => a.getByTestId('room-title').textContent()).toBe(name);
          expect(await a.getByTestId('room-kind').textContent()).toBe('Private room');

          await a.getByTestId('invite-toggle').click();
          await a.getByTestId('invite-input').fill(bob.username.slice(0, -2).toUpperCase());
          const pick = a.locator(`[data-testid=invite-pick][data-username="${bob.username}"]`);
          await expect.poll(() => pick.count(), { timeout: 10_000 }).toBe(1);
          await shot(a, viewport, 'invite');
          await pick.click();
          await expect
            .poll(() => a.locator(`[data-testid=member][data-username="${bob.username}"]`).count(), { timeout: 10_000 })
            .toBe(1);

          // Bob's list gets the room on its own (RoomAdded), private; carol, not invited, finds it nowhere.
          await showRooms(b);
          await expect.poll(() => roomItem(b, name).count(), { timeout: 10_000 }).toBe(1);
          expect(await roomItem(b, name).textContent()).toContain('private');
          await openRoom(b, name);
          await typeAndSend(b, 'thanks for the invite');
          await seen(a, 'thanks for the invite');
          await showRooms(c);
          await c.getByTestId('find-rooms').click();
          expect(await c.locator(`[data-testid=public-room][data-room-name="${name}"]`).count()).toBe(0);
          expect(await roomItem(c, name).count()).toBe(0);
          noErrors(a, b, c);
        });

        it('opens direct messages named after the other person, from a member of a room and from people search', async () => {
          const { alice, bob, room } = await twoInARoom();
          const carol = await seed.user('carol');
          const [a, b] = [await pageOf(alice, viewport), await pageOf(bob, viewport)];
          await openRoom(a, room.name);
          await a.getByTestId('members-toggle').click();
          await a.locator(`[data-testid=member][data-username="${bob.username}"] [data-testid=message-member]`).click();
          await expect.poll(() => a.getByTestId('room-title').textContent()).toBe(bob.username);
          expect(await a.getByTestId('room-kind').textContent()).toBe('Direct message');
          await typeAndSend(a, 'just between us');

          // Bob's list names it after alice, live.
          await showRooms(b);
          await expect.poll(() => roomItem(b, alice.username).count(), { timeout: 10_000 }).toBe(1);
          expect(await roomItem(b, alice.username).getAttribute('data-kind')).toBe('DIRECT');
          await openRoom(b, alice.username);
          await seen(b, 'just between us');

          // From people search: carol, by the start of her username.
          await showRooms(a);
          await a.getByTestId('people-input').fill(carol.username.slice(0, -3));
          const pick = a.locator(`[data-testid=people-pick][data-username="${carol.username}"]`);
          await expect.poll(() => pick.count(), { timeout: 10_000 }).toBe(1);
          expect(await a.locator(`[data-testid=people-pick][data-username="${alice.username}"]`).count()).toBe(0);
          await pick.click();
          await expect.poll(() => a.getByTestId('room-title').textContent()).toBe(carol.username);
          await showRooms(a);
          expect(await roomItem(a, carol.username).textContent()).toContain(`@${carol.username}`);
          await shot(a, viewport, 'direct');
          noErrors(a, b);
        });

        it('leaves a room: it goes from the list, and the others see the member go', async () => {
          const { alice, bob, room } = await twoInARoom();
          const [a, b] = [await pageOf(alice, viewport), await pageOf(bob, viewport)];
          await openRoom(a, room.name);
          await openRoom(b, room.name);
          await a.getByTestId('members-toggle').click();
          const bobInList = a.locator(`[data-testid=member][data-username="${bob.username}"]`);
          await expect.poll(() => bobInList.count()).toBe(1);

          await b.getByTestId('leave').click();
          await b.getByTestId('confirm-leave').click();
          await expect.poll(() => b.getByTestId('room-title').textContent()).toBe('Pick or create a room');
          await showRooms(b);
          expect(await roomItem(b, room.name).count()).toBe(0);
          await expect.poll(() => bobInList.count(), { timeout: 10_000 }).toBe(0);
          // A public room: it is among the public rooms to join again (found by name: the list shows the first 50).
          await b.getByTestId('find-rooms-input').fill(room.name);
          await b.getByTestId('find-rooms').click();
          await expect
            .poll(() => b.locator(`[data-testid=join-room][data-room-name="${room.name}"]`).count(), { timeout: 10_000 })
            .toBe(1);
          noErrors(a, b);
        });

        it('lists the members with their presence in words, and follows it live', async () => {
          const { alice, bob, room } = await twoInARoom();
          const carol = await seed.user('carol');
          await seed.invite(alice, room, carol);
          const a = await pageOf(alice, viewport);
          await openRoom(a, room.name);
          await a.getByTestId('members-toggle').click();
          const presence = (who: TestUser) =>
            a.locator(`[data-testid=member][data-username="${who.username}"] [data-testid=presence]`);
          await expect.poll(() => presence(carol).textContent()).toBe('offline');
          await expect.poll(() => presence(bob).textContent()).toBe('offline');
          expect(await presence(alice).textContent()).toBe('online');

          const b = await pageOf(bob, viewport);
          await expect.poll(() => presence(bob).textContent(), { timeout: 10_000 }).toBe('online');
          expect(await a.getByTestId('members-summary').textContent()).toBe('3 members, 2 online');
          await shot(a, viewport, 'members');
          await b.context().close();
          await expect.poll(() => presence(bob).textContent(), { timeout: 10_000 }).toBe('offline');
          noErrors(a);
        });

        it('has no serious or critical accessibility violations (axe-core) signed out, in a room, and in its panels', async () => {
          const { alice, bob, room } = await twoInARoom();
          const first = await seed.send(bob, room, 'hello https://example.com/page and welcome');
          await seed.send(alice, room, 'a reply', { replyToId: first.id });
          await gqlOk(app, 'mutation($m: ID!) { addReaction(messageId: $m, emoji: "👍") { id } }', { m: first.id }, alice.token);

          const signedOut = await newPage(await newContext(viewport));
          await signedOut.goto(`${app.url}/`);
          await signedOut.getByTestId('auth-submit').click(); // with its error shown
          await expect.poll(() => signedOut.getByTestId('auth-error').textContent()).not.toBe('');
          expect(await axeViolations(signedOut), 'sign-in page').toEqual([]);

          const a = await pageOf(alice, viewport);
          await openRoom(a, room.name);
          await seen(a, 'a reply');
          await expect.poll(() => message(a, 'hello').getByTestId('reaction').count()).toBe(1);
          expect(await axeViolations(a), 'room').toEqual([]);
          await act(a, 'hello', 'react');
          await a.getByTestId('members-toggle').click();
          expect(await axeViolations(a), 'picker and members').toEqual([]);
          await a.getByTestId('invite-toggle').click();
          await a.getByTestId('invite-input').fill(bob.username.slice(0, 4));
          expect(await axeViolations(a), 'invite').toEqual([]);
          await showRooms(a);
          expect(await axeViolations(a), 'room list').toEqual([]);
          await a.getByTestId('search-input').fill('welcome');
          await a.getByTestId('search').click();
          await expect.poll(() => a.getByTestId('search-result').count(), { timeout: 10_000 }).toBe(1);
          expect(await axeViolations(a), 'search results').toEqual([]);
          noErrors(a);
        });

        it('is used with the keyboard alone: open a room, send, react and reply', async () => {
          const { alice, bob, room } = await twoInARoom();
          await seed.send(bob, room, 'keyboard target');
          const a = await pageOf(alice, viewport);
          await showRooms(a);
          await roomItem(a, room.name).focus();
          await a.keyboard.press('Enter');
          await expect.poll(() => a.getByTestId('room-title').textContent()).toBe(room.name);
          expect(await roomItem(a, room.name).getAttribute('aria-current')).toBe('page');
          // Opening a room puts the cursor in the message box.
          await expect.poll(() => a.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('composer');
          await a.keyboard.type('typed without a mouse');
          await a.keyboard.press('Enter');
          await seen(a, 'typed without a mouse');

          // On a touch screen the actions are behind More, which gives focus to React when it opens them.
          const more = message(a, 'keyboard target').getByTestId('more');
          if (await more.isVisible()) {
            await more.focus();
            await a.keyboard.press('Enter');
            await expect.poll(() => a.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('react');
          } else await message(a, 'keyboard target').getByTestId('react').focus();
          await a.keyboard.press('Enter');
          await expect.poll(() => a.evaluate(() => document.activeElement?.getAttribute('data-emoji'))).toBe('👍');
          await a.keyboard.press('Tab');
          await a.keyboard.press('Enter'); // the second emoji, ❤️
          await expect
            .poll(() => message(a, 'keyboard target').locator('[data-testid=reaction][data-emoji="❤️"]').count())
            .toBe(1);
          // Focus went back to the React button.
          expect(await a.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('react');
          await message(a, 'keyboard target').getByTestId('react').press('Enter');
          await a.keyboard.press('Escape');
          expect(await a.getByTestId('picker').count()).toBe(0);
          await message(a, 'keyboard target').getByTestId('reply').press('Enter');
          await expect.poll(() => a.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('composer');
          await a.keyboard.type('a keyboard reply');
          await a.keyboard.press('Enter');
          await expect.poll(() => message(a, 'a keyboard reply').getByTestId('reply-quote').count(), { timeout: 10_000 }).toBe(1);
          noErrors(a);
        });

        if (viewport.name === 'phone') {
          it('keeps the room list in a drawer and every control at least 44×44 px', async () => {
            const { alice, bob, room } = await twoInARoom();
            const sent = await seed.send(bob, room, 'touch me https://example.com');
            await gqlOk(app, 'mutation($m: ID!) { addReaction(messageId: $m, emoji: "👍") { id } }', { m: sent.id }, bob.token);
            await seed.send(bob, room, 'a reply', { replyToId: sent.id });
            const a = await pageOf(alice, viewport);
            // The drawer is closed: the list is off screen and out of the tab order.
            expect(await roomItem(a, room.name).isVisible()).toBe(false);
            await a.getByTestId('menu').click();
            expect(await a.getByTestId('menu').getAttribute('aria-expanded')).toBe('true');
            await expect.poll(() => roomItem(a, room.name).isVisible()).toBe(true);
            expect(await smallTargets(a)).toEqual([]);
            await shot(a, viewport, 'drawer');
            await roomItem(a, room.name).click();
            await expect.poll(() => a.getByTestId('menu').getAttribute('aria-expanded')).toBe('false');
            await seen(a, 'a reply');
            await a.getByTestId('members-toggle').click();
            await act(a, 'touch me', 'react');
            expect(await smallTargets(a)).toEqual([]);
            // Nothing runs off the side of the screen.
            expect(await a.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
            await shot(a, viewport, 'room');
            // Escape closes the drawer again.
            await a.getByTestId('menu').click();
            await a.keyboard.press('Escape');
            await expect.poll(() => a.getByTestId('menu').getAttribute('aria-expanded')).toBe('false');
            noErrors(a);
          });
        }
      });
    }

    describe('polish (1280×800)', () => {
      const desktop = VIEWPORTS[1]!;

      it('groups messages by author, separates days, dates every message on hover, links only http(s) safely, and sets dir=auto', async () => {
        const { alice, bob, room } = await twoInARoom();
        const old = await seed.send(bob, room, 'two days ago');
        await seed.send(bob, room, 'first of a group');
        await seed.send(bob, room, 'second of a group');
        await seed.send(alice, room, 'alice answers');
        await seed.send(bob, room, 'see https://example.com/wiki/Foo_(bar). or javascript:alert(1) and http://x');
        await seed.send(bob, room, 'שלום עולם');
        const { db } = await backend.database();
        await db.execute(sql`update messages set created_at = created_at - interval '2 days' where id = ${old.id}`);
        const a = await pageOf(alice, desktop);
        await openRoom(a, room.name);
        await seen(a, 'שלום עולם');

        expect(await a.getByTestId('day-separator').allTextContents()).toEqual([expect.any(String), 'Today']);
        const classOf = (text: string) => message(a, text).getAttribute('class');
        expect(await classOf('first of a group')).not.toContain('grouped');
        expect(await classOf('second of a group')).toContain('grouped');
        expect(await classOf('alice answers')).not.toContain('grouped');
        expect(await message(a, 'second of a group').getByTestId('author').count()).toBe(0);
        const title = await message(a, 'two days ago').locator('time').getAttribute('title');
        expect(title).toContain(String(new Date(Date.now() - 2 * 86_400_000).getFullYear()));

        const links = message(a, 'see https').locator('a');
        expect(await links.count()).toBe(2);
        expect(
          await links.evaluateAll((els) =>
            els.map((el) => [el.getAttribute('href'), el.textContent, el.getAttribute('rel'), el.getAttribute('target')]),
          ),
        ).toEqual([
          ['https://example.com/wiki/Foo_(bar)', 'https://example.com/wiki/Foo_(bar)', 'noopener noreferrer', '_blank'],
          ['http://x/', 'http://x', 'noopener noreferrer', '_blank'],
        ]);
        expect(await message(a, 'שלום').getByTestId('body').getAttribute('dir')).toBe('auto');
        await shot(a, desktop, 'polish');
        noErrors(a);
      });

      it('attaches an image dropped on the timeline, one pasted and a file from the picker, sends them without text, and the other member sees the thumbnails that open the full size', async () => {
        const { alice, bob, room } = await twoInARoom();
        const [a, b] = [await pageOf(alice, desktop), await pageOf(bob, desktop)];
        await openRoom(a, room.name);
        await openRoom(b, room.name);
        const image = await png(640, 480);
        const screenshot = await jpegWithExif(60, 40);

        // The image's PUT is held until the test lets it go, so its upload is seen under way.
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        await a.route(
          (url) => url.pathname.startsWith('/files/'),
          async (route) => {
            if (route.request().method() === 'PUT' && route.request().headers()['content-type'] === 'image/png') await held;
            await route.continue();
          },
        );
        // Dropped on the timeline, as a file dragged from the desktop is.
        await a.getByTestId('scroller').evaluate(
          (scroller, bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], 'red square.png', { type: 'image/png' }));
            for (const type of ['dragenter', 'dragover', 'drop']) {
              scroller.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
            }
          },
          [...image],
        );
        // Pasted into the box: a screenshot, which has no name of its own.
        await a.getByTestId('composer').evaluate(
          (box, bytes) => {
            const clipboard = new DataTransfer();
            clipboard.items.add(new File([new Uint8Array(bytes)], '', { type: 'image/jpeg' }));
            box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: clipboard, bubbles: true, cancelable: true }));
          },
          [...screenshot],
        );
        // Picked: a PDF, and a page the contract does not take, refused before anything is asked.
        await a.getByTestId('file-input').setInputFiles([
          { name: 'notes.pdf', mimeType: 'application/pdf', buffer: pdf() },
          { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<p>hi</p>') },
        ]);
        expect(await a.getByTestId('attach-error').textContent()).toMatch(
          /“page\.html” cannot be sent: text\/html files are not allowed/,
        );
        const pending = a.getByTestId('pending-file');
        await expect
          .poll(() => pending.evaluateAll((els) => els.map((el) => el.getAttribute('data-state'))))
          .toEqual(['uploading', 'ready', 'ready']);
        expect(await pending.getByTestId('pending-name').allTextContents()).toEqual([
          'red square.png',
          'pasted.jpg',
          'notes.pdf',
        ]);
        expect(await a.getByTestId('composer').inputValue()).toBe('');
        expect(await pending.first().getByRole('progressbar', { name: 'Uploading red square.png' }).count()).toBe(1);
        // The preview is the picked file itself, through a blob: URL the page's CSP allows.
        const preview = pending.first().locator('img');
        expect(await preview.getAttribute('src')).toMatch(/^blob:/);
        await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(640);
        expect(await axeViolations(a)).toEqual([]);
        await shot(a, desktop, 'attaching');
        // Sending waits for every upload.
        await a.getByTestId('composer').press('Enter');
        await expect.poll(() => a.getByTestId('room-notice').textContent()).toContain('still uploading');
        expect(await pending.count()).toBe(3);

        release();
        await expect
          .poll(() => pending.evaluateAll((els) => els.map((el) => el.getAttribute('data-state'))))
          .toEqual(['ready', 'ready', 'ready']);
        await a.getByTestId('composer').press('Enter');
        await expect.poll(() => pending.count()).toBe(0);

        const sentBy = (page: Page) =>
          page
            .getByTestId('messages')
            .locator('[data-testid=message][data-state=stored]')
            .filter({
              has: page.getByTestId('attachments'),
            });
        const images = sentBy(b).getByTestId('attachment-thumbnail');
        await expect
          .poll(() => images.evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt'))), { timeout: 15_000 })
          .toEqual(['red square.png', 'pasted.jpg']);
        expect(await sentBy(b).getByTestId('body').textContent()).toBe('');
        const thumbnail = images.first();
        // The thumbnail, once made, replaces the full image scaled down (MessageChanged THUMBNAIL).
        await expect.poll(() => thumbnail.getAttribute('data-thumbnail'), { timeout: 15_000 }).toBe('ready');
        await expect
          .poll(() => thumbnail.evaluate((img: HTMLImageElement) => [img.complete, img.naturalWidth, img.naturalHeight]))
          .toEqual([true, 320, 240]);
        const file = sentBy(b).getByTestId('attachment-file');
        expect(await file.textContent()).toBe(`notes.pdf${pdf().length} bytes`);
        const download = await b.request.get((await file.getAttribute('href'))!);
        expect([download.status(), download.headers()['content-type']]).toEqual([200, 'application/pdf']);
        expect(await axeViolations(b)).toEqual([]);
        await shot(b, desktop, 'attachments');

        // The link opens the full size in a new tab, which cannot reach back to the chat.
        const link = sentBy(b).getByTestId('attachment-image').first();
        expect([await link.getAttribute('target'), await link.getAttribute('rel')]).toEqual(['_blank', 'noopener noreferrer']);
        const [full] = await Promise.all([b.context().waitForEvent('page'), link.click()]);
        await full.waitForLoadState('load');
        expect(full.url()).toBe(await link.getAttribute('href'));
        expect(
          await full.evaluate(() => [window.opener, document.images[0]?.naturalWidth, document.images[0]?.naturalHeight]),
        ).toEqual([null, 640, 480]);
        // The sender's page shows it too, from the send's answer.
        await expect.poll(() => sentBy(a).getByTestId('attachment-image').count()).toBe(2);
        noErrors(a, b);
      });

      it('starts a room with many unread messages at a "New messages" divider above the first unread one', async () => {
        const { alice, bob, room } = await twoInARoom();
        const sent = await seed.sendMany(bob, room, 125);
        await gqlOk(
          app,
          'mutation($r: ID!, $s: Int!) { markRead(roomId: $r, seq: $s) { id } }',
          { r: room.id, s: 5 },
          alice.token,
        );
        const a = await pageOf(alice, desktop);
        await showRooms(a);
        await expect.poll(() => roomItem(a, room.name).getByTestId('unread').textContent(), { timeout: 10_000 }).toContain('120');
        await openRoom(a, room.name);
        const divider = a.getByTestId('unread-divider');
        await expect.poll(() => divider.count(), { timeout: 15_000 }).toBe(1);
        // Right above seq 6, in view; the newest message is not: the page did not jump to the bottom.
        expect(await divider.evaluate((el) => el.nextElementSibling?.getAttribute('data-seq'))).toBe(String(sent[5]!.seq));
        expect(await inView(a, divider)).toBe(true);
        expect(await inView(a, a.locator(`[data-testid=message][data-seq="${sent.at(-1)!.seq}"]`))).toBe(false);
        await shot(a, desktop, 'unread-divider');
        noErrors(a);
      });

      it('counts characters near the limit, and refuses (never cuts) a message over it', async () => {
        const { alice, room } = await twoInARoom();
        const a = await pageOf(alice, desktop);
        await openRoom(a, room.name);
        const counter = a.getByTestId('char-counter');
        await a.getByTestId('composer').fill('x'.repeat(3000));
        expect(await counter.textContent()).toBe('');
        await a.getByTestId('composer').fill('y'.repeat(3990));
        expect(await counter.textContent()).toBe('10 characters left.');
        // A paste of 4,100 characters stays whole, says by how much it is over, and is not sent.
        await a.getByTestId('composer').fill('z'.repeat(4100));
        expect(await counter.textContent()).toContain('100 characters over the limit of 4,000');
        expect(await a.getByTestId('send').isDisabled()).toBe(true);
        await a.getByTestId('composer').press('Enter');
        expect(await a.getByTestId('composer').inputValue()).toHaveLength(4100);
        expect(await a.getByTestId('room-notice').textContent()).toContain('at most 4,000 characters');
        expect(await a.locator('[data-testid=message]').count()).toBe(0);
        // Emoji count as one character each, as the contract counts.
        await a.getByTestId('composer').fill('😀'.repeat(4000));
        expect(await counter.textContent()).toBe('0 characters left.');
        await a.getByTestId('composer').press('Enter');
        await expect.poll(() => a.locator('[data-testid=message][data-state=stored]').count(), { timeout: 10_000 }).toBe(1);
        await shot(a, desktop, 'counter');
        noErrors(a);
      });

      it('signs in and signs up as distinct actions that keep what was typed and say plainly what is wrong', async () => {
        const page = await newPage(await newContext(desktop));
        await page.goto(`${app.url}/`);
        const taken = await seed.user('taken');
        const username = uniqueName('newbie');
        const error = page.getByTestId('auth-error');
        // Sign-in is the default: Enter signs in, and an unknown user is told so, with a way forward.
        await page.getByTestId('username').fill(username);
        await page.getByTestId('password').fill('a good password');
        await page.getByTestId('password').press('Enter');
        await expect
          .poll(() => error.textContent())
          .toBe('Wrong username or password. New here? Choose “Create account” instead.');
        expect(await page.getByTestId('username').inputValue()).toBe(username);
        expect(await page.getByTestId('password').inputValue()).toBe('a good password');

        // Create account: its own mode, rules checked before asking, a taken name said as such.
        await page.getByTestId('mode-sign-up').click();
        expect(await page.getByTestId('auth-submit').textContent()).toBe('Create account');
        await page.getByTestId('password').fill('short');
        await page.getByTestId('password').press('Enter');
        expect(await error.textContent()).toBe('A password is at least 8 characters.');
        await page.getByTestId('password').fill('a good password');
        await page.getByTestId('username').fill(taken.username.toUpperCase());
        await page.getByTestId('username').press('Enter');
        await expect.poll(() => error.textContent()).toBe('That username is taken. Choose another, or sign in if it is yours.');
        expect(await page.getByTestId('password').inputValue()).toBe('a good password');
        await shot(page, desktop, 'sign-up-error');

        await page.getByTestId('username').fill(username);
        await page.getByTestId('password').press('Enter');
        await expect.poll(() => page.getByTestId('me').textContent(), { timeout: 10_000 }).toBe(username);
        noErrors(page);
      });

      it('keeps the public room list live: a room someone else creates appears without asking', async () => {
        const [alice, bob] = await seed.users('alice', 'bob');
        const a = await pageOf(alice, desktop);
        const name = uniqueName('fresh');
        // Filtered by its name (the list shows the first 50 by name), before it exists.
        await a.getByTestId('find-rooms-input').fill(name);
        await a.getByTestId('find-rooms').click();
        await expect.poll(() => a.locator('[data-testid=public-rooms]').textContent()).toBe('No other public rooms.');
        await seed.room(bob, 'PUBLIC', name);
        await expect
          .poll(() => a.locator(`[data-testid=join-room][data-room-name="${name}"]`).count(), { timeout: 25_000 })
          .toBe(1);
        noErrors(a);
      });

      it('reconnects as soon as the browser is back online, and shows right unread badges at once', async () => {
        const { alice, bob, room } = await twoInARoom();
        const side = await seed.room(bob);
        await seed.invite(bob, side, alice);
        const a = await pageOf(alice, desktop, other);
        await openRoom(a, room.name);
        await typeAndSend(a, 'before the outage');
        await seen(a, 'before the outage');

        // The browser goes offline and the instance it used stops: while offline the page makes no attempt
        // at all, so only the browser's 'online' event can bring it back.
        await a.context().setOffline(true);
        const port = other.port;
        await other.stop();
        await expect.poll(() => status(a), { timeout: 15_000 }).toBe('reconnecting');
        await seed.send(bob, room, 'while alice was away');
        await seed.send(bob, side, 'in the other room');
        other = await backend.startApp({ webDir: join(root, 'web/dist'), port });
        await a.context().setOffline(false);
        await expect.poll(() => status(a), { timeout: 15_000 }).toBe('online');
        await seen(a, 'while alice was away');
        await showRooms(a);
        await expect.poll(() => roomItem(a, side.name).getByTestId('unread').count(), { timeout: 10_000 }).toBe(1);
        // From the same refetch: the open room, being read, counts nothing unread.
        const visibility = await a.evaluate(() => document.visibilityState);
        expect(await roomItem(a, room.name).getByTestId('unread').count(), `page ${visibility}`).toBe(0);
        await shot(a, desktop, 'after-reconnect');
        noErrors(a);
      });
    });
  });
}

if (!present) {
  describe('Browser client features in Chromium', () => {
    it.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`, () => {});
  });
}

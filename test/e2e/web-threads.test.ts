import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { CHROMIUM, chromiumPresent as present } from '../support/chromium.js';
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
  showRooms,
  smallTargets,
  threadMessage,
  typeAndSend,
  WebBrowser,
  type Viewport,
} from '../support/web-page.js';

/** The mention-in-a-thread flow is two users, a dozen steps and several live updates: longer than the default 30 s on a loaded machine. */
const LONG_FLOW_MS = 90_000;

/**
 * The browser client's threads, mentions and pins in Chromium (the rules:
 * the contract's "Threads, mentions and pins"), on a phone (390×844, touch)
 * and a desktop (1280×800) screen: a thread panel opened from a message,
 * replies in it live, following; the @-mention picker sending member ids,
 * mentions of the viewer highlighted and counted in the room list; the
 * pinned strip at the top of a room, live; the room's timeline without
 * thread replies. With the axe-core check and, on the phone, 44 px targets.
 * Screenshots go to .data/screenshots/.
 */

const VIEWPORTS: Viewport[] = [PHONE, DESKTOP];

/** The bodies of the stored messages of the room's list (not the thread panel), in page order. */
const timeline = (page: Page) =>
  page.$$eval('[data-testid=messages] [data-testid=message][data-state=stored] [data-testid=body]', (bodies) =>
    bodies.map((b) => b.textContent ?? ''),
  );

const seenInRoom = (page: Page, text: string) =>
  expect.poll(() => message(page, text).count(), { timeout: 15_000, message: `"${text}" in the room` }).toBe(1);
const seenInThread = (page: Page, text: string) =>
  expect.poll(() => threadMessage(page, text).count(), { timeout: 15_000, message: `"${text}" in the thread` }).toBe(1);

/** The room's mention badge in the page's room list ("" when there is none). */
const mentionBadge = async (page: Page, roomName: string) => {
  const badge = roomItem(page, roomName).getByTestId('mentions');
  return (await badge.count()) ? ((await badge.textContent()) ?? '') : '';
};

/** Types into a box key by key (as a person does: the mention picker follows the caret). */
const typeInto = (page: Page, testid: string, text: string) => page.getByTestId(testid).pressSequentially(text);

for (const backendName of present ? backendNames() : []) {
  describe(`Browser client threads, mentions and pins in Chromium [${backendName}]`, () => {
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

    for (const viewport of VIEWPORTS) {
      describe(`at ${viewport.width}×${viewport.height} (${viewport.name})`, () => {
        it(
          'one user mentions another in a thread reply; the other sees the mention badge and the reply live in the thread panel',
          async () => {
            const { alice, bob, room } = await seed.roomWithTwoMembers();
            await seed.send(alice, room, 'Launch plan: who checks the numbers?');
            const [a, b] = [await pageOf(alice, viewport), await pageOf(bob, viewport)];
            await openRoom(a, room.name);
            await openRoom(b, room.name);
            await seenInRoom(b, 'Launch plan');

            // Alice opens a thread on her message and mentions bob through the picker: @ and the start of his name.
            await act(a, 'Launch plan', 'open-thread');
            const panel = a.getByTestId('thread-panel');
            await expect.poll(() => panel.isVisible()).toBe(true);
            await seenInThread(a, 'Launch plan');
            await expect.poll(() => a.getByTestId('thread-count').textContent()).toBe('No replies yet: start the thread below.');
            await typeInto(a, 'thread-composer', `@${bob.username.slice(0, 5)}`);
            const option = a.locator(`[data-testid=mention-option][data-username="${bob.username}"]`);
            await expect.poll(() => option.count()).toBe(1);
            expect(await option.getAttribute('aria-selected')).toBe('true');
            expect(await a.getByTestId('thread-composer').getAttribute('aria-activedescendant')).toBe(
              await option.getAttribute('id'),
            );
            expect(await axeViolations(a), 'thread panel with the mention picker').toEqual([]);
            if (viewport.touch) expect(await smallTargets(a)).toEqual([]);
            await shot(a, viewport, 'mention-picker');
            // Picked with Enter, or with a tap on a phone: the text says @bob, and his id goes along.
            if (viewport.touch) await option.tap();
            else await a.getByTestId('thread-composer').press('Enter');
            await expect.poll(() => a.getByTestId('thread-composer').inputValue()).toBe(`@${bob.username} `);
            expect(await a.getByTestId('thread-composer').evaluate((el) => el === document.activeElement)).toBe(true);
            await typeInto(a, 'thread-composer', 'can you check the numbers?');
            await a.getByTestId('thread-composer').press('Enter');
            const reply = `@${bob.username} can you check the numbers?`;
            await seenInThread(a, reply);
            // The reply stays out of the room's timeline; the root says it has one.
            await expect.poll(() => message(a, 'Launch plan').getByTestId('thread-link').getAttribute('data-replies')).toBe('1');
            expect(await timeline(a)).toEqual(['Launch plan: who checks the numbers?']);

            // The server has the mention by id (never from the text).
            const { threadMessages } = await gqlOk(
              app,
              'query($r: ID!) { threadMessages(threadRootId: $r) { edges { node { body mentions { id } } } } }',
              { r: await message(a, 'Launch plan').getAttribute('data-id') },
              bob.token,
            );
            expect(threadMessages.edges.map((e: any) => e.node)).toEqual([{ body: reply, mentions: [{ id: bob.id }] }]);

            // Bob, in the room but not in the thread: the mention badge in his room list, and "1 reply, 1 new" on the root.
            await showRooms(b);
            await expect.poll(() => mentionBadge(b, room.name), { timeout: 10_000 }).toBe('@1');
            expect(await roomItem(b, room.name).textContent()).toContain('1 unread mentioning you');
            await shot(b, viewport, 'mention-badge');
            if (viewport.touch) await b.getByTestId('menu').click(); // closes the drawer again
            const link = message(b, 'Launch plan').getByTestId('thread-link');
            await expect.poll(() => link.getAttribute('data-unread'), { timeout: 10_000 }).toBe('1');
            expect(await link.textContent()).toContain('1 reply');
            expect(await timeline(b)).toEqual(['Launch plan: who checks the numbers?']);

            // He opens the thread from it: the root, alice's reply highlighted as mentioning him, and he follows it.
            await link.click();
            await seenInThread(b, 'can you check the numbers?');
            const mention = threadMessage(b, 'can you check the numbers?');
            expect(await mention.getAttribute('class')).toContain('mentions-me');
            expect(await mention.getByTestId('mentions-me').textContent()).toBe('mentions you');
            expect(await threadMessage(b, 'Launch plan').count()).toBe(1);
            await expect.poll(() => b.getByTestId('follow-thread').getAttribute('aria-pressed')).toBe('true');
            // Read: the badge goes, and so does the root's unread count.
            await showRooms(b);
            await expect.poll(() => mentionBadge(b, room.name), { timeout: 10_000 }).toBe('');
            if (viewport.touch) await b.getByTestId('menu').click();
            expect(await link.getAttribute('data-unread')).toBe('0');

            // Alice replies again: it arrives live in bob's open panel, and counts nothing there.
            await typeInto(a, 'thread-composer', 'second reply, live');
            await a.getByTestId('thread-composer').press('Enter');
            await seenInThread(b, 'second reply, live');
            expect(await axeViolations(b), 'thread panel').toEqual([]);
            await shot(b, viewport, 'thread-panel');

            // The room's feed goes on around the thread: a message in the room reaches bob's timeline, replies do not.
            await typeAndSend(a, 'back in the room');
            await seenInRoom(b, 'back in the room');
            expect(await timeline(b)).toEqual(['Launch plan: who checks the numbers?', 'back in the room']);

            // Bob answers in the thread and to the room too: alice sees it in both, the room's copy opening the thread.
            await typeInto(b, 'thread-composer', 'numbers look right');
            await b.getByTestId('thread-composer-to-room').check();
            await b.getByTestId('thread-composer').press('Enter');
            await seenInThread(a, 'numbers look right');
            await seenInRoom(a, 'numbers look right');
            expect(await message(a, 'numbers look right').getByTestId('in-thread').count()).toBe(1);
            await expect.poll(() => message(a, 'Launch plan').getByTestId('thread-link').getAttribute('data-replies')).toBe('3');

            // Bob stops following; Escape closes the panel, focus back on the root's link.
            await b.getByTestId('follow-thread').click();
            await expect.poll(() => b.getByTestId('follow-thread').getAttribute('aria-pressed')).toBe('false');
            await b.getByTestId('close-thread').focus();
            await b.keyboard.press('Escape');
            await expect.poll(() => b.getByTestId('thread-panel').isVisible()).toBe(false);
            await expect.poll(() => b.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('thread-link');
            noErrors(a, b);
          },
          LONG_FLOW_MS,
        );

        it('pins a message for everyone: the strip at the top of the room, live for the other member, and unpins it', async () => {
          const { alice, bob, room } = await seed.roomWithTwoMembers();
          await seed.send(alice, room, 'Read the rules first');
          await seed.send(bob, room, 'hello all');
          const [a, b] = [await pageOf(alice, viewport), await pageOf(bob, viewport)];
          await openRoom(a, room.name);
          await openRoom(b, room.name);
          await seenInRoom(b, 'hello all');
          expect(await b.getByTestId('pins').isVisible()).toBe(false);

          // Bob, a MEMBER of a GROUP room, may not pin: no Pin among his actions.
          await act(b, 'Read the rules', 'react');
          expect(await message(b, 'Read the rules').getByTestId('pin').count()).toBe(0);
          await b.keyboard.press('Escape');

          // Alice, the owner, pins: the strip shows on both pages, bob's live, and the message says so.
          await act(a, 'Read the rules', 'pin');
          for (const page of [a, b]) {
            await expect
              .poll(() => page.getByTestId('pinned-message').textContent(), { timeout: 10_000 })
              .toContain('Read the rules first');
          }
          await expect.poll(() => message(b, 'Read the rules').getByTestId('pinned-tag').count()).toBe(1);
          expect(await b.getByTestId('unpin-pinned').count()).toBe(0);
          expect(await a.getByTestId('unpin-pinned').count()).toBe(1);
          expect(await axeViolations(b), 'pinned strip').toEqual([]);
          if (viewport.touch) expect(await smallTargets(a)).toEqual([]);
          await shot(b, viewport, 'pins');

          // A second pin goes first; the rest is behind "Show all".
          await act(a, 'hello all', 'pin');
          await expect.poll(() => b.getByTestId('pinned-message').textContent(), { timeout: 10_000 }).toContain('hello all');
          await b.getByTestId('pins-toggle').click();
          await expect
            .poll(() => b.getByTestId('pinned-message').allTextContents())
            .toEqual([expect.stringContaining('hello all'), expect.stringContaining('Read the rules first')]);
          // A pinned message in the strip leads to it in the room.
          await b.getByTestId('pinned-message').nth(1).click();
          await expect.poll(() => message(b, 'Read the rules').getAttribute('class')).toContain('highlighted');

          // Unpinned from the strip: gone from both.
          await a.getByTestId('pins-toggle').click();
          await a.locator('[data-testid=unpin-pinned]').nth(1).click();
          await expect.poll(() => a.getByTestId('unpin-pinned').count()).toBe(1);
          await a.getByTestId('unpin-pinned').click();
          for (const page of [a, b])
            await expect.poll(() => page.getByTestId('pins').isVisible(), { timeout: 10_000 }).toBe(false);
          noErrors(a, b);
        });
      });
    }

    it('lets either member of a direct room pin', async () => {
      const [alice, bob] = await seed.users('alice', 'bob');
      const { openDirectRoom } = await gqlOk(
        app,
        'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }',
        { u: bob.id },
        alice.token,
      );
      await seed.send(alice, { id: openDirectRoom.id, name: '' }, 'our plan');
      const b = await pageOf(bob, DESKTOP);
      await openRoom(b, alice.username);
      await seenInRoom(b, 'our plan');
      await act(b, 'our plan', 'pin');
      await expect.poll(() => b.getByTestId('pinned-message').textContent(), { timeout: 10_000 }).toContain('our plan');
      noErrors(b);
    });

    it('opens a room without its thread replies, except those sent to the room too, and finds a reply by search in its thread', async () => {
      const { alice, bob, room } = await seed.roomWithTwoMembers();
      const rootMessage = await seed.send(alice, room, 'the root');
      await seed.send(bob, room, 'only in the thread', { threadRootId: rootMessage.id });
      await seed.send(bob, room, 'in the thread and the room', { threadRootId: rootMessage.id, showInRoom: true });
      const hidden = await seed.send(bob, room, 'a findable needle reply', { threadRootId: rootMessage.id });
      await seed.send(alice, room, 'after the thread');
      const a = await pageOf(alice, DESKTOP);
      await openRoom(a, room.name);
      await seenInRoom(a, 'after the thread');
      expect(await timeline(a)).toEqual(['the root', 'in the thread and the room', 'after the thread']);
      expect(await message(a, 'the root').getByTestId('thread-link').getAttribute('data-replies')).toBe('3');

      // A search result that is a thread's reply opens the thread at it.
      await a.getByTestId('search-input').fill('needle');
      await a.getByTestId('search').click();
      await expect.poll(() => a.getByTestId('search-result').count(), { timeout: 10_000 }).toBe(1);
      await a.getByTestId('search-result').click();
      await seenInThread(a, 'a findable needle reply');
      const target = a.getByTestId('thread-panel').locator(`[data-testid=message][data-seq="${hidden.seq}"]`);
      await expect.poll(() => target.getAttribute('class')).toContain('highlighted');
      expect(await threadMessage(a, 'the root').count()).toBe(1);
      expect(await a.getByTestId('thread-count').textContent()).toBe('3 replies');
      await shot(a, DESKTOP, 'thread-search');
      noErrors(a);
    });
  });
}

if (!present) {
  describe('Browser client threads, mentions and pins in Chromium', () => {
    it.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`, () => {});
  });
}

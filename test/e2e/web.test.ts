import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumPresent as present } from '../support/chromium.js';
import { TEST_SECRET } from '../support/config.js';
import { PASSWORD, seeder, uniqueName } from '../support/seed.js';
import { ensureWebBuild, root, sourceStart, startProcess, type Started } from '../support/spawned.js';

/** Where the screenshots go (kept after the run, under the ignored .data/). */
const ARTIFACTS = join(root, '.data/artifacts');

/**
 * The server as `npm start` runs it, in its own process: PGlite on disk in a
 * directory of the test's (embedded), or real Postgres and Redis (services).
 * restart() stops it with SIGTERM and starts it again on the same port, so the
 * pages, which never reload, find it where they left it.
 */
class ServerProcess {
  private current: Started | null = null;
  port = 0;
  constructor(
    private readonly cwd: string,
    private readonly env: Record<string, string>,
  ) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  get app() {
    return this.current!.app;
  }
  async start() {
    this.current = await startProcess(process.execPath, sourceStart, this.cwd, { ...this.env, PORT: String(this.port) });
    this.port = this.current.app.port;
  }
  async stop() {
    if (!this.current) return;
    const { child, exited } = this.current;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    this.current = null;
  }
  kill() {
    this.current?.child.kill('SIGKILL');
  }
}

/** Picks signing in or up on the sign-in page, fills the form and submits it. */
async function enter(page: Page, button: 'sign-in' | 'sign-up', username: string, password = PASSWORD) {
  await page.getByTestId(`mode-${button}`).click();
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('auth-submit').click();
}

/** Signs up or in, and waits until the page is signed in and its socket live. */
async function signedIn(page: Page, button: 'sign-in' | 'sign-up', username: string) {
  await enter(page, button, username);
  await expect.poll(() => page.getByTestId('me').textContent(), { timeout: 10_000 }).toBe(username);
  await expect.poll(() => status(page), { timeout: 10_000 }).toBe('online');
}

/** A room's entry in the page's room list. */
const roomItem = (page: Page, name: string) => page.locator(`[data-testid=room-item][data-room-name="${name}"]`);

const status = (page: Page) => page.getByTestId('status').getAttribute('data-status');

/** The stored messages the page shows, in page order: [seq, body]. */
const shown = (page: Page) =>
  page.$$eval('[data-testid=message][data-state=stored]', (items) =>
    items.map((li) => [Number(li.getAttribute('data-seq')), li.querySelector('.body')?.textContent ?? ''] as const),
  );

async function typeAndSend(page: Page, body: string) {
  await page.getByTestId('composer').fill(body);
  await page.getByTestId('composer').press('Enter');
}

/** Waits until the page shows a stored message with this body. */
const seen = (page: Page, body: string) =>
  expect
    .poll(async () => (await shown(page)).some(([, b]) => b === body), { timeout: 20_000, message: `"${body}" shown` })
    .toBe(true);

const consecutive = (seqs: number[]) => seqs.every((seq, i) => i === 0 || seq === seqs[i - 1]! + 1);

for (const name of present ? backendNames() : []) {
  describe(`Browser client at / in Chromium [${name}]`, () => {
    let browser: Browser;
    let backend: Backend | null = null;
    let server: ServerProcess;
    const dir = mkdtempSync(join(tmpdir(), 'chat-web-'));
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      ensureWebBuild();
      let env: Record<string, string> = {};
      if (name === 'services') {
        backend = await createBackend('services');
        const { database, redis, redisPrefix } = backend.config;
        env = {
          DATABASE_URL: (database as { url: string }).url,
          REDIS_URL: redis!.url,
          REDIS_PREFIX: redisPrefix,
          JWT_SECRET: new TextDecoder().decode(TEST_SECRET),
        };
      }
      server = new ServerProcess(dir, env);
      await server.start();
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
      mkdirSync(ARTIFACTS, { recursive: true });
    });
    afterAll(async () => {
      await browser?.close();
      server?.kill();
      await backend?.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    async function newPage(): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      (page as Page & { errors: string[] }).errors = errors;
      await page.goto(`${server.url}/`, { waitUntil: 'load' });
      return page;
    }

    it('two users chat live with typing, presence and unread counts, and go on with no gap after the server restarts', async () => {
      const [alice, bob] = [uniqueName('alice'), uniqueName('bob')];
      const a = await newPage();
      const b = await newPage();
      await signedIn(a, 'sign-up', alice);
      await signedIn(b, 'sign-up', bob);

      // Alice creates a room; Bob finds it among the public rooms and joins.
      const lobby = uniqueName('lobby');
      await a.getByTestId('create-room-input').fill(lobby);
      await a.getByTestId('create-room').click();
      await expect.poll(() => a.getByTestId('room-title').textContent()).toBe(lobby);
      await b.getByTestId('find-rooms').click();
      await b.locator(`[data-testid=join-room][data-room-name="${lobby}"]`).click();
      await expect.poll(() => b.getByTestId('room-title').textContent()).toBe(lobby);

      // Presence: each sees the other online in the room.
      const online = (page: Page, who: string) =>
        page.locator(`[data-testid=member][data-username="${who}"]`).getAttribute('data-online');
      await expect.poll(() => online(a, bob), { timeout: 10_000 }).toBe('true');
      await expect.poll(() => online(b, alice), { timeout: 10_000 }).toBe('true');

      // Typing: Bob sees Alice typing before she sends.
      await a.getByTestId('composer').pressSequentially('hel');
      await expect.poll(() => b.getByTestId('typing').textContent(), { timeout: 10_000 }).toBe(`${alice} is typing…`);
      await a.getByTestId('composer').fill('');
      await typeAndSend(a, 'hello bob');
      await seen(b, 'hello bob');
      await expect.poll(() => b.getByTestId('typing').textContent(), { timeout: 10_000 }).toBe('');
      await typeAndSend(b, 'hi alice');
      await seen(a, 'hi alice');

      // Unread counts: while Alice has another room open, Bob's messages count in the lobby's badge.
      await a.getByTestId('create-room-input').fill(uniqueName('side'));
      await a.getByTestId('create-room').click();
      await expect.poll(() => a.getByTestId('room-title').textContent()).not.toBe(lobby);
      await typeAndSend(b, 'one');
      await typeAndSend(b, 'two');
      const badge = () => roomItem(a, lobby).getByTestId('unread');
      await expect.poll(async () => ((await badge().count()) ? badge().textContent() : null), { timeout: 10_000 }).toBe('2');
      await roomItem(a, lobby).click();
      await seen(a, 'two');
      await expect.poll(() => badge().count(), { timeout: 10_000 }).toBe(0);

      // The server stops. Both pages say so; a message sent meanwhile is shown at once, as not yet stored.
      await server.stop();
      await expect.poll(() => status(a), { timeout: 10_000 }).toBe('reconnecting');
      await expect.poll(() => status(b), { timeout: 10_000 }).toBe('reconnecting');
      await typeAndSend(a, 'sent while the server was down');
      const outgoing = a.locator('[data-testid=message][data-state=retrying], [data-testid=message][data-state=sending]');
      await expect.poll(() => outgoing.count(), { timeout: 5_000 }).toBe(1);
      await a.screenshot({ path: join(ARTIFACTS, `web-${name}-offline.png`) });

      // It starts again on the same port: the sockets reconnect, the outbox's retry (same clientId) stores the message once.
      await server.start();
      await expect.poll(() => status(a), { timeout: 30_000 }).toBe('online');
      await expect.poll(() => status(b), { timeout: 30_000 }).toBe('online');
      await seen(b, 'sent while the server was down');
      await seen(a, 'sent while the server was down');
      await typeAndSend(b, 'after the restart');
      await seen(a, 'after the restart');
      await typeAndSend(a, 'and again');
      await seen(b, 'and again');

      // No gap, no duplicate, the same order on both pages; the offline message was stored once.
      const expected = [
        'hello bob',
        'hi alice',
        'one',
        'two',
        'sent while the server was down',
        'after the restart',
        'and again',
      ];
      for (const page of [a, b]) {
        const list = await shown(page);
        expect(list.map(([, body]) => body)).toEqual(expected);
        expect(consecutive(list.map(([seq]) => seq))).toBe(true);
        expect(await page.locator('[data-testid=message]:not([data-state=stored])').count()).toBe(0);
      }
      await a.screenshot({ path: join(ARTIFACTS, `web-${name}-alice.png`) });
      await b.screenshot({ path: join(ARTIFACTS, `web-${name}-bob.png`) });
      for (const page of [a, b]) expect((page as Page & { errors: string[] }).errors).toEqual([]);

      // Presence the other way: Bob closes his browser, and Alice sees him go offline.
      await b.context().close();
      await expect.poll(() => online(a, bob), { timeout: 10_000 }).toBe('false');
      // Two browsers, a server restart and a dozen live checks: slow when other browser tests share the cores.
    }, 90_000);

    it('loads older history page by page as the reader scrolls back, to the room start, with no gap', async () => {
      const seed = seeder(server.app);
      const carol = await seed.user('carol');
      const room = await seed.room(carol);
      for (let i = 1; i <= 75; i++) await seed.send(carol, room, `history ${i}`);
      const page = await newPage();
      await signedIn(page, 'sign-in', carol.username);
      await roomItem(page, room.name).click();
      await seen(page, 'history 75');
      const first = await shown(page);
      expect(first.length).toBeLessThan(75); // one page, not the whole room
      expect(await page.getByTestId('room-start').count()).toBe(0);
      // Scroll to the top until the room's start is shown.
      await expect
        .poll(
          async () => {
            await page.getByTestId('scroller').evaluate((el) => (el.scrollTop = 0));
            return page.getByTestId('room-start').count();
          },
          { timeout: 15_000 },
        )
        .toBe(1);
      const all = await shown(page);
      expect(all.map(([seq]) => seq)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
      expect(all.map(([, body]) => body)).toEqual(Array.from({ length: 75 }, (_, i) => `history ${i + 1}`));
    });

    it('opens a room whose history could not be read once the server is back', async () => {
      const seed = seeder(server.app);
      const erin = await seed.user('erin');
      const [first, second] = [await seed.room(erin), await seed.room(erin)];
      await seed.send(erin, first, 'in the first room');
      await seed.send(erin, second, 'in the second room');
      const page = await newPage();
      await signedIn(page, 'sign-in', erin.username);
      await roomItem(page, first.name).click();
      await seen(page, 'in the first room');
      await server.stop();
      await roomItem(page, second.name).click();
      await expect.poll(() => page.getByTestId('room-notice').textContent(), { timeout: 10_000 }).toContain('cannot be reached');
      await server.start();
      await seen(page, 'in the second room');
      await expect.poll(() => page.getByTestId('room-notice').textContent()).toBe('');
    });

    it('keeps a refused message on the page as failed, and a wrong password gets the server’s answer', async () => {
      const page = await newPage();
      await enter(page, 'sign-in', uniqueName('nobody'), 'not the password');
      await expect
        .poll(() => page.getByTestId('auth-error').textContent(), { timeout: 10_000 })
        .toMatch(/invalid|incorrect|wrong/i);
      await signedIn(page, 'sign-up', uniqueName('dave'));
      await page.getByTestId('create-room-input').fill(uniqueName('solo'));
      await page.getByTestId('create-room').click();
      await expect.poll(() => page.getByTestId('composer').isDisabled()).toBe(false);
      // A lone surrogate: not well-formed text, refused with BAD_USER_INPUT; not retried.
      await page.getByTestId('composer').evaluate((el: HTMLTextAreaElement) => {
        el.value = 'broken \uD800 text';
        el.dispatchEvent(new Event('input'));
      });
      await page.getByTestId('composer').press('Enter');
      await expect.poll(() => page.locator('[data-testid=message][data-state=failed]').count(), { timeout: 10_000 }).toBe(1);
      expect(await shown(page)).toEqual([]);
    });
  });
}

if (!present) {
  describe('Browser client at / in Chromium', () => {
    it.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`, () => {});
  });
}

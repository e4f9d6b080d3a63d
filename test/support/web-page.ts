import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS } from './chromium.js';
import type { TestUser } from './seed.js';
import { root } from './spawned.js';

/**
 * What the browser client's Chromium tests share: the screen sizes, the
 * page's parts by test id, signed-in pages, the axe-core check and
 * screenshots (into .data/screenshots/, ignored by git).
 */

export const SCREENSHOTS = join(root, '.data/screenshots');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Viewport {
  name: 'phone' | 'desktop';
  width: number;
  height: number;
  touch: boolean;
}
export const PHONE: Viewport = { name: 'phone', width: 390, height: 844, touch: true };
export const DESKTOP: Viewport = { name: 'desktop', width: 1280, height: 800, touch: false };

export const status = (page: Page) => page.getByTestId('status').getAttribute('data-status');

/** A room's entry in the page's room list. */
export const roomItem = (page: Page, name: string) => page.locator(`[data-testid=room-item][data-room-name="${name}"]`);

/** The stored message of the room's list whose body contains `text`. */
export const message = (page: Page, text: string) =>
  page
    .getByTestId('messages')
    .locator('[data-testid=message][data-state=stored]')
    .filter({ has: page.locator('[data-testid=body]', { hasText: text }) });

/** The stored message of the open thread (its root or a reply) whose body contains `text`. */
export const threadMessage = (page: Page, text: string) =>
  page
    .getByTestId('thread-panel')
    .locator('[data-testid=message][data-state=stored]')
    .filter({ has: page.locator('[data-testid=body]', { hasText: text }) });

/**
 * Presses one of a message's action buttons (React, Reply, Thread, Edit,
 * Delete, Report, Pin, Unpin). On a touch screen they are behind the
 * message's More button: tap it first.
 */
export async function act(
  page: Page,
  text: string,
  action: 'react' | 'reply' | 'open-thread' | 'edit' | 'delete' | 'report' | 'pin' | 'unpin',
) {
  const more = message(page, text).getByTestId('more');
  if ((await more.isVisible()) && (await more.getAttribute('aria-expanded')) !== 'true') await more.click();
  await message(page, text).getByTestId(action).click();
}

export async function typeAndSend(page: Page, body: string) {
  await page.getByTestId('composer').fill(body);
  await page.getByTestId('composer').press('Enter');
}

/** On a phone the room list is a drawer: open it first. */
export async function showRooms(page: Page) {
  const menu = page.getByTestId('menu');
  if ((await menu.isVisible()) && (await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
}

export async function openRoom(page: Page, name: string) {
  await showRooms(page);
  await roomItem(page, name).click();
  await expect.poll(() => page.getByTestId('room-title').textContent()).toBe(name);
}

/** Interactive elements on screen smaller than 44×44 CSS pixels (a checkbox counts with its label; links inside text do not count). */
export const smallTargets = (page: Page) =>
  page.$$eval('button, input, textarea, select, [role=option]', (elements) =>
    elements
      .filter((el) => {
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && !el.closest('.visually-hidden, [inert]');
      })
      .map((el) => {
        const target = el instanceof HTMLInputElement && el.type === 'checkbox' ? (el.labels?.[0] ?? el) : el;
        const box = target.getBoundingClientRect();
        return {
          what: `${el.tagName.toLowerCase()}[${el.getAttribute('data-testid') ?? el.getAttribute('aria-label') ?? el.textContent?.trim() ?? ''}]`,
          width: box.width,
          height: box.height,
        };
      })
      .filter((t) => t.width < 44 || t.height < 44)
      .map((t) => `${t.what} ${Math.round(t.width)}×${Math.round(t.height)}`),
  );

/** Serious and critical accessibility violations axe-core finds on the page as it is, by rule, with the elements. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') does not apply.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

/** A page whose uncaught errors noErrors() checks. */
type WatchedPage = Page & { errors: string[] };

/**
 * One Chromium for a test file, and the contexts its tests open (closed
 * after each test by closeContexts()).
 */
export class WebBrowser {
  private browser: Browser | null = null;
  private readonly contexts: BrowserContext[] = [];

  constructor(private readonly backendName: string) {}

  async launch(): Promise<void> {
    const { chromium } = await import('playwright-core');
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }

  async newContext(viewport: Viewport): Promise<BrowserContext> {
    const context = await this.browser!.newContext({
      viewport: { width: viewport.width, height: viewport.height },
      isMobile: viewport.touch,
      hasTouch: viewport.touch,
      // No sliding drawer: screenshots show it where it ends up.
      reducedMotion: 'reduce',
    });
    this.contexts.push(context);
    return context;
  }

  /** A page of the context whose uncaught errors noErrors() checks. */
  async newPage(context: BrowserContext): Promise<Page> {
    const page = (await context.newPage()) as WatchedPage;
    page.errors = [];
    page.on('pageerror', (error) => page.errors.push(error.message));
    return page;
  }

  /**
   * A page at `url` signed in as `user` (the session the sign-in page would
   * store), its socket live. `prepare` readies the context first (permissions,
   * init scripts).
   */
  async pageOf(
    user: TestUser,
    viewport: Viewport,
    url: string,
    prepare?: (context: BrowserContext) => Promise<void>,
  ): Promise<Page> {
    const context = await this.newContext(viewport);
    await prepare?.(context);
    await context.addInitScript((session) => localStorage.setItem('chat.session', JSON.stringify(session)), {
      token: user.token,
      user: { id: user.id, username: user.username, online: false },
    });
    const page = await this.newPage(context);
    await page.goto(`${url}/`, { waitUntil: 'load' });
    await expect.poll(() => status(page), { timeout: 10_000 }).toBe('online');
    return page;
  }

  shot(page: Page, viewport: Viewport, what: string) {
    return page.screenshot({ path: join(SCREENSHOTS, `${this.backendName}-${viewport.name}-${what}.png`) });
  }

  async closeContexts(): Promise<void> {
    await Promise.all(this.contexts.splice(0).map((context) => context.close()));
  }

  async close(): Promise<void> {
    await this.browser?.close();
  }
}

export const noErrors = (...pages: Page[]) => {
  for (const page of pages) expect((page as WatchedPage).errors).toEqual([]);
};

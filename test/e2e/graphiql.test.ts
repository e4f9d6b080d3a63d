import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../support/backends.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumPresent as present } from '../support/chromium.js';
import { PROBE_BODY } from '../support/probes.js';
import { seeder } from '../support/seed.js';

describe.runIf(present)('GraphiQL in a real browser', () => {
  let backend: Backend;
  let browser: Browser;
  beforeAll(async () => {
    backend = await createBackend('embedded');
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await backend?.dispose();
  });

  it('loads without any CDN and runs a subscription over WebSocket, signed in from the Headers tab', async () => {
    const app = await backend.startApp();
    const seed = seeder(app);
    const alice = await seed.user('alice');
    const room = await seed.room(alice);
    const page = await browser.newPage();
    const offsite: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(app.url) && !request.url().startsWith('blob:') && !request.url().startsWith('data:'))
        offsite.push(request.url());
    });
    const frames: string[] = [];
    const waiters: Array<() => void> = [];
    const record = (frame: string) => {
      frames.push(frame);
      for (const wake of waiters.splice(0)) wake();
    };
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => record(`sent ${String(f.payload)}`));
      ws.on('framereceived', (f) => record(`received ${String(f.payload)}`));
    });
    /** Resolves once a frame makes `predicate` hold, or after timeoutMs. */
    const frameWhere = async (predicate: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate() && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - Date.now());
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    };
    const until = async (predicate: () => boolean, what: string) => {
      await frameWhere(predicate, 10_000);
      expect(predicate(), what).toBe(true);
    };

    const query = `subscription { messageAdded(roomId: "${room.id}") { seq body } }`;
    await page.goto(`${app.url}/graphql?query=${encodeURIComponent(query)}`, { waitUntil: 'load' });
    await page.getByText('Headers', { exact: true }).click();
    await page.locator('.graphiql-editor-tool .monaco-editor:visible').first().click({ force: true });
    await page.keyboard.type(`{"Authorization": "Bearer ${alice.token}"`);
    // The socket takes its token from GraphiQL's saved tab state (src/graphiql.ts), written a moment after typing.
    await page.waitForFunction(
      (authorization) => {
        try {
          const state = JSON.parse(localStorage.getItem('graphiql:tabState') ?? 'null');
          const tab = state?.tabs?.[state.activeTabIndex ?? 0];
          return JSON.parse(tab?.headers ?? '{}').Authorization === authorization;
        } catch {
          return false;
        }
      },
      `Bearer ${alice.token}`,
      { timeout: 10_000 },
    );
    await page.click('button.graphiql-execute-button');

    await until(() => frames.some((f) => f.startsWith('received') && f.includes('connection_ack')), 'connection_ack');
    expect(frames.find((f) => f.includes('connection_init'))).toContain(`"authorization":"Bearer ${alice.token}"`);
    // Live once a probe message comes over the socket: send one every 100 ms until one does.
    const probed = () => frames.some((f) => f.startsWith('received') && f.includes(`"${PROBE_BODY}"`));
    for (let fired = 0; !probed(); fired++) {
      expect(fired, 'a probe message over the socket').toBeLessThan(100);
      await seed.send(alice, room, PROBE_BODY);
      await frameWhere(probed, 100);
    }
    await seed.send(alice, room, 'hello GraphiQL');
    await until(() => frames.some((f) => f.includes('hello GraphiQL')), 'the message over the socket');
    await page.getByText('"hello GraphiQL"').waitFor({ timeout: 5000 }); // shown in the result pane
    expect(offsite).toEqual([]);
    await page.close();
  });

  it('opens with the example operations (register, a room, a subscription) when no query is given', async () => {
    const app = await backend.startApp();
    // A fresh context: no tab kept from the test above.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/graphql`, { waitUntil: 'load' });
    // Monaco renders only the lines in view; the document itself is in GraphiQL's saved tab state.
    const document = await page.waitForFunction(
      () => {
        const state = JSON.parse(localStorage.getItem('graphiql:tabState') ?? 'null');
        return (state?.tabs?.[0]?.query as string | undefined) ?? localStorage.getItem('graphiql:query');
      },
      undefined,
      { timeout: 10_000 },
    );
    const text = (await document.jsonValue()) as string;
    for (const operation of [
      'mutation Register(',
      'mutation CreateRoom(',
      'mutation SendMessage(',
      'subscription MessageAdded(',
    ]) {
      expect(text).toContain(operation);
    }
    await page.getByText('Welcome to the Chat API', { exact: false }).first().waitFor({ timeout: 10_000 });
    await context.close();
  });
});

if (!present) {
  describe('GraphiQL in a real browser', () => {
    it.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`, () => {});
  });
}

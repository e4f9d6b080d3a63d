import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../support/backends.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumPresent as present } from '../support/chromium.js';
import { PROBE_BODY } from '../support/probes.js';
import { seeder, uniqueName, type TestUser } from '../support/seed.js';

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
    const sockets = watchSockets(page);

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

    await sockets.until(
      () => sockets.frames.some((f) => f.startsWith('received') && f.includes('connection_ack')),
      'connection_ack',
    );
    expect(sockets.frames.find((f) => f.includes('connection_init'))).toContain(`"authorization":"Bearer ${alice.token}"`);
    await sockets.probe(() => seed.send(alice, room, PROBE_BODY));
    await seed.send(alice, room, 'hello GraphiQL');
    await sockets.until(() => sockets.frames.some((f) => f.includes('hello GraphiQL')), 'the message over the socket');
    await page.getByText('"hello GraphiQL"').waitFor({ timeout: 5000 }); // shown in the result pane
    expect(offsite).toEqual([]);
    await page.close();
  });

  it('following its own steps (Register and CreateRoom in the first tab, the subscription in a new tab) signs the new tab and its socket in with the token entered once', async () => {
    const app = await backend.startApp();
    const seed = seeder(app);
    const context = await browser.newContext();
    const page = await context.newPage();
    const sockets = watchSockets(page);
    await page.goto(`${app.url}/graphql`, { waitUntil: 'load' });

    // Step 1: Register (the play button offers each operation by name), then its token in Headers.
    const username = uniqueName('alice');
    await typeInEditorTab(page, 'Variables', `{"username": "${username}"}`);
    const registered = await runOperation(page, 'Register');
    const { token, user } = (registered as { data: { register: { token: string; user: { id: string } } } }).data.register;
    await typeInEditorTab(page, 'Headers', `{"Authorization": "Bearer ${token}"}`);
    // Step 2: CreateRoom, signed in from the Headers tab. GraphiQL takes the
    // editor's text after a pause: on a loaded machine a run right after typing
    // may still go without it (UNAUTHENTICATED, nothing created), so run it again.
    let created = (await runOperation(page, 'CreateRoom')) as { data: { createRoom: { id: string } } | null };
    for (let attempt = 1; created.data === null && attempt < 5; attempt++) {
      created = (await runOperation(page, 'CreateRoom')) as typeof created;
    }
    const roomId = created.data!.createRoom.id;
    await page.getByText('Every tab and subscription sends the token from Headers').waitFor({ timeout: 5000 });

    // Step 3: a new tab (+), its Headers empty, runs the subscription.
    await page.getByRole('button', { name: 'New tab' }).click();
    await page.locator('.graphiql-query-editor .monaco-editor').first().click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(`subscription MessageAdded { messageAdded(roomId: "${roomId}") { seq body } }`);
    // GraphiQL has read the document once the tab is named after its operation.
    await page.locator('.graphiql-tab', { hasText: 'MessageAdded' }).waitFor({ timeout: 5000 });
    await page.click('button.graphiql-execute-button');
    await sockets.until(
      () => sockets.frames.some((f) => f.startsWith('received') && f.includes('connection_ack')),
      'connection_ack',
    );
    expect(sockets.frames.find((f) => f.includes('connection_init'))).toContain(`"authorization":"Bearer ${token}"`);

    const alice: TestUser = { id: user.id, username, token };
    await sockets.probe(() => seed.send(alice, { id: roomId, name: 'general' }, PROBE_BODY));
    await seed.send(alice, { id: roomId, name: 'general' }, 'hello from the first tab');
    await sockets.until(() => sockets.frames.some((f) => f.includes('hello from the first tab')), 'the message over the socket');
    await page.getByText('"hello from the first tab"').waitFor({ timeout: 5000 }); // in the new tab's result pane
    expect(sockets.opened()).toBe(1);
    await context.close();
  });

  it('shows the close code and reason of a socket the server refuses, once, instead of a spinner that retries', async () => {
    const app = await backend.startApp();
    const context = await browser.newContext();
    const page = await context.newPage();
    const sockets = watchSockets(page);
    const query = `subscription { messageAdded(roomId: "00000000-0000-4000-8000-000000000000") { seq } }`;
    await page.goto(`${app.url}/graphql?query=${encodeURIComponent(query)}`, { waitUntil: 'load' });
    await typeInEditorTab(page, 'Headers', '{"Authorization": "Bearer not-a-token"}');
    await page.click('button.graphiql-execute-button');
    const shown = await page.waitForFunction(
      () => {
        const text = (document.querySelector('.graphiql-response')?.textContent ?? '').replace(/\u00a0/g, ' ');
        return text.includes('4403') ? text : null;
      },
      undefined,
      { timeout: 10_000 },
    );
    const text = (await shown.jsonValue()) as string;
    expect(text).toContain('The WebSocket was closed with 4403');
    expect(text).toContain('Forbidden');
    expect(text).toContain('"closeCode": 4403');
    expect(await page.locator('.graphiql-response .graphiql-spinner').count()).toBe(0);
    expect(sockets.opened()).toBe(1); // refused is an answer: not tried again
    await context.close();
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

/** Puts text in the Variables or Headers editor (pasted, so Monaco adds no closing brackets of its own). */
async function typeInEditorTab(page: Page, tab: 'Variables' | 'Headers', text: string) {
  await page.getByText(tab, { exact: true }).click();
  await page.locator('.graphiql-editor-tool .monaco-editor:visible').first().click({ force: true });
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(text);
}

/** Runs one operation of the document by name (the play button's menu) and resolves with its HTTP result. */
async function runOperation(page: Page, name: string): Promise<unknown> {
  const response = page.waitForResponse(
    (r) =>
      r.url().endsWith('/graphql') &&
      r.request().method() === 'POST' &&
      (r.request().postData() ?? '').includes(`"operationName":"${name}"`),
  );
  await page.click('button.graphiql-execute-button');
  await page.getByRole('menuitem', { name, exact: true }).click();
  return (await response).json();
}

/** The page's WebSocket frames as they come, and a way to wait for one without sleeping. */
function watchSockets(page: Page) {
  const frames: string[] = [];
  const waiters: Array<() => void> = [];
  let opened = 0;
  const record = (frame: string) => {
    frames.push(frame);
    for (const wake of waiters.splice(0)) wake();
  };
  page.on('websocket', (ws) => {
    opened++;
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
  return {
    frames,
    opened: () => opened,
    async until(predicate: () => boolean, what: string) {
      await frameWhere(predicate, 10_000);
      expect(predicate(), `${what}: ${frames.join('\n')}`).toBe(true);
    },
    /** Live once a probe message comes over the socket: one sent every 100 ms until one does. */
    async probe(send: () => Promise<unknown>) {
      const probed = () => frames.some((f) => f.startsWith('received') && f.includes(`"${PROBE_BODY}"`));
      for (let fired = 0; !probed(); fired++) {
        expect(fired, 'a probe message over the socket').toBeLessThan(100);
        await send();
        await frameWhere(probed, 100);
      }
    },
  };
}

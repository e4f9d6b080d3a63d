import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connected, gqlOk, Subscription, wsClient } from '../support/client.js';
import { rawGet } from '../support/raw-http.js';
import { seeder } from '../support/seed.js';
import { root, startProcess } from '../support/spawned.js';

/** A spawned server starts, migrates and hashes passwords at production cost: on a loaded machine that outgrows 30 s. */
const SPAWNED_TEST_MS = 120_000;

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Resolves true while something accepts connections on the port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** Whether a process with this id exists (signal 0 only checks). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every process below pid, read from /proc (Linux): a server that a wrapper forked shows up here. */
function descendants(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(path)) return [];
  const children = readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** `/` serves the built browser client: its page, and the script the page names. */
async function expectBrowserClient(url: string) {
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  const html = await page.text();
  const script = /<script type="module" crossorigin src="(\/assets\/[\w.-]+\.js)"/.exec(html)?.[1];
  expect(script, html).toBeTruthy();
  const asset = await fetch(`${url}${script}`);
  expect(asset.status).toBe(200);
  expect(asset.headers.get('cache-control')).toContain('immutable');
  // The build compressed it once: served as brotli to a client that takes it.
  const compressed = await rawGet(`${url}${script}`, { 'accept-encoding': 'br, gzip' });
  const identity = await rawGet(`${url}${script}`, { 'accept-encoding': 'identity' });
  expect(compressed.headers['content-encoding']).toBe('br');
  expect(compressed.body.length).toBeLessThan(identity.body.length / 3);
  // The service worker (Web Push), built beside the page as one script at the root.
  const worker = await fetch(`${url}/sw.js`);
  expect(worker.status).toBe(200);
  expect(worker.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(await worker.text()).toContain('notificationclick');
}

describe('the production build (npm run build, then node dist/main.js)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-build-'));
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    await run(npm, ['run', 'build'], { cwd: root }); // dist/ and web/dist/
  }, 120_000);
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'serves a register -> createRoom -> sendMessage round trip from dist/ in one process, which SIGTERM stops with exit 0',
    async () => {
      expect(scripts['start:prod']).toBe('exec node dist/main.js');
      // On the embedded defaults, in a directory of its own: migrations and the
      // schema files are found from dist/, not from the working directory.
      const server = await startProcess(process.execPath, [join(root, 'dist/main.js')], dir, { PGLITE_DIR: join(dir, 'pglite') });
      children.push(server.child);
      expect(descendants(server.child.pid!)).toEqual([]);
      const seed = seeder(server.app);
      const alice = await seed.user('alice');
      const room = await seed.room(alice);
      const sent = await seed.send(alice, room, 'hello from dist');
      const history = await gqlOk(
        server.app,
        'query($r: ID!) { messages(roomId: $r) { edges { node { id body } } } }',
        { r: room.id },
        alice.token,
      );
      expect(history.messages.edges).toEqual([{ node: { id: sent.id, body: 'hello from dist' } }]);
      await expectBrowserClient(server.app.url);

      let closeCode = 0;
      const watcher = wsClient(server.app, alice.token, { onClose: (code) => (closeCode = code) });
      const acknowledged = connected(watcher);
      const open = new Subscription(watcher, 'subscription($r: ID!) { messageAdded(roomId: $r) { seq } }', { r: room.id });
      await acknowledged;
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      await open.until(() => closeCode !== 0, 5000, 'the socket to close');
      expect(closeCode).toBe(1001);
      expect(alive(server.child.pid!)).toBe(false);
      expect(await listening(server.app.port)).toBe(false);
      await watcher.dispose();
    },
    SPAWNED_TEST_MS,
  );
});

describe('npm start (npm itself as the process a supervisor signals)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-npm-start-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'runs the server as npm’s only child, so SIGTERM to npm’s PID stops it cleanly and leaves nothing running',
    async () => {
      // `exec`: the script's shell becomes the server, which npm signals directly.
      expect(scripts.start).toBe('exec node --import tsx src/main.ts');
      const secret = 'a-test-secret-of-at-least-32-bytes-long';
      const server = await startProcess(npm, ['start'], root, { PGLITE_DIR: join(dir, 'pglite'), JWT_SECRET: secret });
      children.push(server.child);
      const below = descendants(server.child.pid!);
      expect(below).toHaveLength(1); // node, with no shell and no loader process between
      const seed = seeder(server.app);
      const alice = await seed.user('alice');
      await seed.room(alice);
      // Its prestart built the browser client (or found the build current): served at /.
      expect(scripts.prestart).toBe('node scripts/build-web.mjs --if-stale');
      await expectBrowserClient(server.app.url);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.stderr()).toContain('"msg":"stopped"');
      expect(below.filter(alive)).toEqual([]);
      expect(await listening(server.app.port)).toBe(false);
    },
    SPAWNED_TEST_MS,
  );
});

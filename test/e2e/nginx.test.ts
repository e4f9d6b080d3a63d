import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createChatClient, MessageAddedDocument } from '../../client/index.js';
import { DEFAULT_WEB_DIR } from '../../src/transport/transport.config.js';
import { eventually, gqlOk } from '../support/client.js';
import { keepSending, PASSWORD, seeder } from '../support/seed.js';
import type { App } from '../support/server.js';
import { ensureWebBuild, root } from '../support/spawned.js';
import { forEachBackend } from '../support/suite.js';

/** Debian's nginx (`apt-get install nginx`); .ci/run installs it. */
const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
const present = existsSync(NGINX);
if (!present && process.env.CI) throw new Error(`nginx is missing at ${NGINX}; .ci/run installs it`);

/** A port nothing listens on right now (bound to 0, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Replaces `from` in `text`, which must be there. */
function replace(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`deploy/nginx.conf no longer contains ${JSON.stringify(from)}`);
  return text.replaceAll(from, to);
}

/**
 * Runs deploy/nginx.conf as a foreground child in a temporary prefix, in front
 * of `upstreams`: their ports in place of 4001 and 4002, a free port on
 * loopback in place of 80, every log and temp path in the prefix.
 */
async function startNginx(upstreams: [App, App]) {
  const dir = await mkdtemp(join(tmpdir(), 'chat-nginx-'));
  const port = await freePort();
  let conf = await readFile(join(root, 'deploy/nginx.conf'), 'utf8');
  conf = replace(conf, '127.0.0.1:4001', `127.0.0.1:${upstreams[0].port}`);
  conf = replace(conf, '127.0.0.1:4002', `127.0.0.1:${upstreams[1].port}`);
  conf = replace(conf, 'listen 80;', `listen 127.0.0.1:${port};`);
  conf = replace(conf, 'worker_processes auto;', `worker_processes 1;\nerror_log ${dir}/error.log info;`);
  const paths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${dir}/${kind};`);
  conf = replace(conf, 'http {', `http {\n  access_log ${dir}/access.log;\n${paths.join('\n')}`);
  await writeFile(join(dir, 'nginx.conf'), conf);
  const args = ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-g', `daemon off; pid ${dir}/nginx.pid;`];
  const child: ChildProcess = spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  // If the test process goes away first, nginx goes with it.
  const orphaned = () => child.kill('SIGTERM');
  process.once('exit', orphaned);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => process.off('exit', orphaned));
  const url = `http://127.0.0.1:${port}`;
  const log = async () => `${stderr}\n${await readFile(`${dir}/error.log`, 'utf8').catch(() => '')}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // by its PID: nginx's fast shutdown
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${await log()}`);
        return fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      'nginx to answer /healthz',
      10_000,
      20,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, wsUrl: `ws://127.0.0.1:${port}/graphql`, log, stop };
}

/** chat_ws_open_sockets of one instance, from its own /metrics. */
async function openSockets(app: App): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const match = /^chat_ws_open_sockets (\d+)$/m.exec(text);
  return match ? Number(match[1]) : 0;
}

// Without nginx (and not in CI) the suite shows as skipped, named for what is missing.
describe.runIf(present)(present ? 'nginx' : `nginx (skipped: no ${NGINX}; apt-get install nginx)`, () =>
  forEachBackend('Behind nginx', (s) => {
    const cleanups: Array<() => unknown> = [];
    afterEach(async () => {
      // Every cleanup runs (nginx is stopped) even when one before it throws.
      const failures: unknown[] = [];
      for (const cleanup of cleanups.splice(0).reverse())
        await Promise.resolve()
          .then(cleanup)
          .catch((e: unknown) => failures.push(e));
      if (failures.length > 0) throw failures[0];
    });

    it('the kit follows a room through nginx and, when its instance stops, resumes on the other: every seq once, in order', async () => {
      const { alice, bob, room } = await seeder(s.a).roomWithTwoMembers();
      // Two instances behind nginx (s.a, a third of the same deployment, is where bob sends).
      ensureWebBuild(); // the instances read the browser client's build at start
      const web = { trustProxy: 1, webDir: DEFAULT_WEB_DIR };
      const upstreams: [App, App] = [await s.backend.startApp(web), await s.backend.startApp(web)];
      cleanups.push(() => Promise.allSettled(upstreams.map((app) => app.stop())));
      const nginx = await startNginx(upstreams);
      cleanups.push(() => nginx.stop());

      // The browser client's page comes through nginx with the server's headers.
      const page = await fetch(`${nginx.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(await page.text()).toContain('<div id="app">');

      // Plain HTTP through nginx reaches an instance.
      const viaNginx = { url: nginx.url } as App;
      const login = await gqlOk<{ login: { token: string } }>(
        viaNginx,
        'mutation($input: CredentialsInput!) { login(input: $input) { token } }',
        { input: { username: alice.username, password: PASSWORD } },
      );
      const token = login.login.token;

      const closes: number[] = [];
      let reconnects = 0;
      const chat = createChatClient({
        url: nginx.wsUrl,
        token: () => token,
        webSocketImpl: WebSocket,
        retryWait: async () => new Promise<void>((resolve) => setTimeout(resolve, 50)),
        onReconnected: () => reconnects++,
        clientOptions: { on: { closed: (event) => closes.push((event as { code: number }).code) } },
      });
      cleanups.push(() => chat.dispose());
      const received: number[] = [];
      const errors: unknown[] = [];
      const unsubscribe = chat.subscribe(
        MessageAddedDocument,
        { roomId: room.id, after: null },
        {
          next: (result) => {
            if (result.errors?.length) errors.push(result.errors);
            if (result.data) received.push(result.data.messageAdded.seq);
          },
          error: (error) => errors.push(error),
        },
      );
      cleanups.push(unsubscribe);

      const sender = keepSending(s.a, bob, room);
      cleanups.push(() => sender.stop());
      const moreArrive = (count: number, what: string) => {
        const target = received.length + count;
        return eventually(async () => received.length >= target, what, 10_000, 10);
      };
      await moreArrive(3, 'the subscription to deliver through nginx');

      // The instance that holds the kit's socket, by its own count.
      const counts = await Promise.all(upstreams.map(openSockets));
      expect(counts.toSorted()).toEqual([0, 1]);
      const serving = upstreams[counts.indexOf(1)]!;
      const other = upstreams[counts.indexOf(0)]!;

      const before = reconnects;
      await serving.stop(); // what SIGTERM does: sockets closed with 1001
      await eventually(async () => reconnects > before, 'a reconnect through nginx', 10_000, 10);
      expect(closes).toContain(1001);
      await eventually(async () => (await openSockets(other)) === 1, 'the socket on the other instance', 10_000, 10);
      await moreArrive(3, 'messages from the other instance');

      // New HTTP requests go to the survivor too.
      for (let i = 0; i < 4; i++) expect((await fetch(`${nginx.url}/healthz`)).status).toBe(200);

      const last = await sender.stop();
      await eventually(async () => received.at(-1) === last, `seq ${last}`, 10_000, 10);
      const from = received[0]!;
      expect(received).toEqual(Array.from({ length: last - from + 1 }, (_, i) => from + i));
      expect(errors).toEqual([]);
    });

    // Streams over HTTP: nginx must pass each event on as it comes (proxy_buffering off), not when a buffer fills.
    const streams = [
      ['SSE', 'text/event-stream', 'text/event-stream'],
      [
        "Apollo's multipart protocol",
        'multipart/mixed;boundary="graphql";subscriptionSpec=1.0, application/json',
        'multipart/mixed',
      ],
    ] as const;
    for (const [protocol, accept, contentType] of streams)
      it(`serves messageAdded over ${protocol} through nginx: each event arrives while the stream stays open`, async () => {
        const { alice, bob, room } = await seeder(s.a).roomWithTwoMembers();
        const upstreams: [App, App] = [await s.backend.startApp({ trustProxy: 1 }), await s.backend.startApp({ trustProxy: 1 })];
        cleanups.push(() => Promise.allSettled(upstreams.map((app) => app.stop())));
        const nginx = await startNginx(upstreams);
        cleanups.push(() => nginx.stop());
        const controller = new AbortController();
        cleanups.push(() => controller.abort());
        const response = await fetch(`${nginx.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${bob.token}` },
          body: JSON.stringify({
            query: 'subscription($r: ID!) { messageAdded(roomId: $r) { seq } }',
            variables: { r: room.id },
          }),
          signal: controller.signal,
        });
        expect(response.headers.get('content-type')).toContain(contentType);
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let text = '';
        /** Reads until the stream has carried the event of `seq`. */
        const readSeq = async (seq: number) => {
          while (!text.includes(`"seq":${seq}`)) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`the stream ended: ${text}`);
            text += decoder.decode(value, { stream: true });
          }
        };
        // Each message is sent only once the one before came through the stream.
        for (let i = 1; i <= 3; i++) {
          const sent = await seeder(s.a).send(alice, room, `live ${i}`);
          await Promise.race([
            readSeq(sent.seq),
            new Promise((_, reject) => setTimeout(() => reject(new Error(`seq ${sent.seq} held back: ${text}`)), 5000)),
          ]);
        }
        controller.abort();
      });

    it('refuses a body over MAX_BODY_BYTES at nginx with 413, and answers one within it', async () => {
      const upstreams: [App, App] = [await s.backend.startApp({ trustProxy: 1 }), await s.backend.startApp({ trustProxy: 1 })];
      cleanups.push(() => Promise.allSettled(upstreams.map((app) => app.stop())));
      const nginx = await startNginx(upstreams);
      cleanups.push(() => nginx.stop());
      const post = (bytes: number) =>
        fetch(`${nginx.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }', extensions: { pad: 'x'.repeat(bytes) } }),
        });
      const tooLarge = await post(s.backend.config.requestLimits.bodyBytes);
      expect(tooLarge.status).toBe(413);
      // nginx's own page, not the instance's JSON: the body never reached an instance.
      expect(tooLarge.headers.get('content-type')).toMatch(/^text\/html/);
      expect(tooLarge.headers.get('x-request-id')).toBeNull();
      const within = await post(1024);
      expect(within.status).toBe(200);
      expect(await within.json()).toEqual({ data: { __typename: 'Query' } });
    });
  }),
);

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gqlOk } from '../support/client.js';
import { seeder } from '../support/seed.js';
import { runUntilExit, sourceStart, startProcess } from '../support/spawned.js';

/** A secret of their own, so that stderr holds only what the test is about (no generated-secret warning). */
const QUIET = { JWT_SECRET: 'start-refusals-secret-of-at-least-32-bytes' };
const start = (cwd: string, env: Record<string, string> = {}) =>
  startProcess(process.execPath, sourceStart, cwd, { ...QUIET, ...env });
const refused = (cwd: string, env: Record<string, string> = {}) =>
  runUntilExit(process.execPath, sourceStart, cwd, { ...QUIET, ...env });

describe('npm start when its port is taken (a spawned process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-port-'));
  let holder: Server;
  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('says so in one line naming PORT and exits with 1, with no stack, before it opens the database', async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    const { code, stdout, stderr } = await refused(dir, { PORT: String(port) });
    expect(code).toBe(1);
    expect(stderr).toBe(
      `127.0.0.1:${port} is in use (another chat server?); set PORT to a free port, or PORT=0 for any free one\n`,
    );
    expect(stdout).toBe('');
    expect(existsSync(join(dir, '.data/pglite'))).toBe(false);
  });
});

describe('npm start with a trusted documents manifest it cannot trust (a spawned process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-manifest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says which document of which file is wrong in one line and exits with 1, with no stack, before it opens the database', async () => {
    writeFileSync(
      join(dir, 'ops.json'),
      JSON.stringify({ 'rooms-v1': 'query Rooms { myRooms { id } }', 'me-v2': '{ me { nope } }' }),
    );
    const { code, stdout, stderr } = await refused(dir, { TRUSTED_DOCUMENTS_MANIFEST: 'ops.json' });
    expect(code).toBe(1);
    expect(stderr).toBe(
      'the trusted document "me-v2" of ops.json does not validate against the served schema: ' +
        'Cannot query field "nope" on type "User".\n',
    );
    expect(stdout).toBe('');
    expect(existsSync(join(dir, '.data/pglite'))).toBe(false);
  });
});

describe('two servers on one embedded data directory (spawned processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-lock-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const lockFile = join(dir, '.data/pglite.lock');

  it('the second refuses in one line naming the first one’s pid, before it touches the directory; the first goes on', async () => {
    const first = await start(dir);
    children.push(first.child);
    expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(first.child.pid));
    const seed = seeder(first.app);
    const alice = await seed.user('alice');
    const before = snapshot(join(dir, '.data/pglite'));

    const second = await refused(dir);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `the data directory .data/pglite is in use by process ${first.child.pid} (another chat server?): ` +
        'stop that one first, or set PGLITE_DIR to another directory\n',
    );
    expect(second.stdout).toBe('');
    expect(snapshot(join(dir, '.data/pglite'))).toEqual(before);
    expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(first.child.pid));
    expect((await gqlOk(first.app, '{ me { username } }', {}, alice.token)).me.username).toBe(alice.username);

    // A crash leaves the lock behind: the next server finds its process gone and takes the directory over.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(lockFile)).toBe(true);
    const third = await start(dir, { LOG_FORMAT: 'pretty' });
    children.push(third.child);
    expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(third.child.pid));
    expect((await gqlOk(third.app, '{ me { username } }', {}, alice.token)).me.username).toBe(alice.username);

    // The banner names the chat and the API; LOG_FORMAT=pretty lines are for reading.
    const url = third.app.url;
    expect(third.stdout()).toBe(
      `Chat server ready at ${url}/graphql\n` +
        `  the chat in a browser:  ${url}/\n` +
        `  the GraphQL API:        ${url}/graphql (GraphiQL in a browser)\n`,
    );
    expect(third.stderr()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening url=http:\/\/\S+ database=pglite pubsub=memory$/m);
    await third.stderrMatching(/ INFO {2}request method=POST path=\/graphql type=query status=200 ms=[\d.]+ req=\S+$/m);

    // Stopped cleanly, it leaves no lock.
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  }, 120_000); // three servers start on PGlite on disk, one after another

  it('logs JSON lines when stderr is not a terminal and LOG_FORMAT is unset', async () => {
    const server = await start(dir);
    children.push(server.child);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const lines = server.stderr().trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['listening', 'shutting down', 'stopped']);
  });
});

/** Every file under dir with its size and modification time: what a process that wrote there would change. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const stat = statSync(full);
        out[full] = `${stat.size}:${stat.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connected, gqlOk, Subscription, wsClient } from '../support/client.js';
import { messageProbe, PROBE_BODY } from '../support/probes.js';
import { PASSWORD, seeder } from '../support/seed.js';
import { sourceStart, startProcess } from '../support/spawned.js';

const startServer = (cwd: string) => startProcess(process.execPath, sourceStart, cwd);

describe('npm start on embedded defaults (its command line, one spawned process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-start-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  let token = '';
  let username = '';
  let roomId = '';
  let probes = 0;

  it('serves a register -> createRoom -> subscribe -> sendMessage round trip', async () => {
    const server = await startServer(dir);
    children.push(server.child);
    expect(server.stderr()).toContain('generated development secret');
    expect(modeOf(join(dir, '.data'))).toBe(0o700);
    expect(modeOf(join(dir, '.data/jwt-secret'))).toBe(0o600);
    const seed = seeder(server.app);
    const alice = await seed.user('alice');
    const room = await seed.room(alice);
    token = alice.token;
    username = alice.username;
    roomId = room.id;
    const client = wsClient(server.app, alice.token);
    const live = new Subscription(
      client,
      'subscription($r: ID!) { messageAdded(roomId: $r) { seq body author { username } } }',
      { r: room.id },
      messageProbe(server.app, alice, room),
    );
    probes = await live.live(); // the probes took seqs 1..probes
    await seed.send(alice, room, 'hello from a fresh clone');
    await live.next(1);
    expect(live.values[0].messageAdded).toEqual({
      seq: probes + 1,
      body: 'hello from a fresh clone',
      author: { username: alice.username },
    });

    // PGlite sets the modes of its files itself (0666 for most, whatever the
    // umask): they are private because every directory above them is 0700.
    expect(modeOf(join(dir, '.data/pglite'))).toBe(0o700);
    const entries = filesUnder(join(dir, '.data'));
    const directories = entries.filter((path) => statSync(path).isDirectory());
    expect(entries.length - directories.length).toBeGreaterThan(10);
    expect(directories.filter((path) => modeOf(path) !== 0o700)).toEqual([]);

    // SIGTERM: open sockets are closed with 1001 so clients reconnect elsewhere; the process exits 0.
    let closeCode = 0;
    const watcher = wsClient(server.app, alice.token, { onClose: (code) => (closeCode = code) });
    const acknowledged = connected(watcher);
    const open = new Subscription(watcher, 'subscription($r: ID!) { messageAdded(roomId: $r) { seq } }', { r: room.id });
    await acknowledged; // an open socket of the server's
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await open.until(() => closeCode !== 0, 5000, 'the socket to close');
    expect(closeCode).toBe(1001);
    await client.dispose();
  });

  it('keeps its data and its generated secret across a restart', async () => {
    const server = await startServer(dir);
    children.push(server.child);
    // The token issued before the restart is still valid: the secret was persisted.
    const me = await gqlOk(server.app, '{ me { username } }', {}, token);
    expect(me.me.username).toBe(username);
    const login = await gqlOk(server.app, 'mutation($i: CredentialsInput!) { login(input: $i) { user { username } } }', {
      i: { username, password: PASSWORD },
    });
    expect(login.login.user.username).toBe(username);
    const history = await gqlOk(
      server.app,
      'query($r: ID!) { messages(roomId: $r) { edges { node { body } } } }',
      { r: roomId },
      token,
    );
    const probesSent = Array.from({ length: probes }, () => ({ node: { body: PROBE_BODY } }));
    expect(history.messages.edges).toEqual([...probesSent, { node: { body: 'hello from a fresh clone' } }]);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses to start with a list of every configuration problem', async () => {
    const child = spawn(process.execPath, sourceStart, {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: 'postgres://127.0.0.1:1/none', JWT_SECRET: '', JWT_TTL: 'soon', PORT: '99999' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('JWT_SECRET is required');
    expect(stderr).toContain('JWT_TTL');
    expect(stderr).toContain('PORT');
  });

  it('refuses to start with NODE_ENV=production and no JWT_SECRET, rather than generate one', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'chat-start-prod-'));
    try {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET'].includes(k)),
      );
      const child = spawn(process.execPath, sourceStart, {
        cwd: fresh,
        env: { ...env, NODE_ENV: 'production', PORT: '99999' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(stderr).toContain('JWT_SECRET is required when NODE_ENV=production');
      expect(stderr).toContain('PORT'); // listed with the other problems
      expect(existsSync(join(fresh, '.data/jwt-secret'))).toBe(false);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

const modeOf = (path: string) => statSync(path).mode & 0o777;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [path, ...filesUnder(path)] : [path];
  });
}

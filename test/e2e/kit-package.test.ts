import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/seed.js';
import { root } from '../support/spawned.js';
import { forEachBackend } from '../support/suite.js';

/**
 * The kit as an app outside this repository gets it: `npm pack` in client/
 * (which builds it), the tarball installed with its peers into two fresh
 * apps, one `"type": "commonjs"` and one `"type": "module"`, each type-checked
 * against the packed declarations and run with plain `node` (no tsx, no
 * bundler) against a started server. Offline: the peers are packed from this
 * checkout's node_modules and everything is installed from tarballs with
 * `npm install --offline`.
 */

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'chat-kit-package-'));
const tarballs = join(work, 'tarballs');

/** What the apps install beside the kit: its peers, ws (Node 20 has no WebSocket), urql and Apollo for the helpers. */
const APP_PACKAGES = ['graphql', 'graphql-ws', 'ws', '@urql/core', '@apollo/client'];

/** npm's own variables (a surrounding `npm test` sets npm_config_*) would configure the apps' npm too. */
const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE_OPTIONS'));

interface PackageJson {
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const readPackage = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;

/**
 * The directories in this checkout's node_modules of `names` and everything
 * they need (dependencies and required peers). Only the hoisted copies are
 * packed, so a nested one would leave the offline install without it: say so.
 */
function withDependencies(names: string[]): string[] {
  const found = new Map<string, string>();
  const visit = (name: string) => {
    if (found.has(name)) return;
    const dir = join(root, 'node_modules', name);
    if (!existsSync(dir)) throw new Error(`${name} is not in node_modules: npm ci first`);
    found.set(name, dir);
    const pkg = readPackage(dir);
    const peers = Object.keys(pkg.peerDependencies ?? {}).filter((peer) => !pkg.peerDependenciesMeta?.[peer]?.optional);
    for (const dependency of [...Object.keys(pkg.dependencies ?? {}), ...peers]) {
      if (existsSync(join(dir, 'node_modules', dependency))) throw new Error(`${name} has its own copy of ${dependency}`);
      visit(dependency);
    }
  };
  names.forEach(visit);
  return [...found.values()];
}

const kitPackage = readPackage(join(root, 'client'));
const kitDependencies = Object.keys(kitPackage.dependencies ?? {});
let kitTarball = '';
let packedFiles: string[] = [];

/** Type-checked in each app with the checkout's tsc: the packed declarations, through `import` and `require` alike. */
const CHECK_TS = `
import type { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import type { Exchange } from '@urql/core';
import {
  ChatRequestError,
  createChatClient,
  login,
  MeDocument,
  refresh,
  request,
  SendMessageDocument,
  type AuthResult,
  type ChatErrorCode,
  type ConnectionState,
} from '@chat/client';
import { chatTypePolicies, chatWsLink } from '@chat/client/apollo';
import { chatSubscriptionExchange } from '@chat/client/urql';

export async function typed(url: string): Promise<string> {
  const session: AuthResult = await login(url, { username: 'alice', password: 'correct horse battery' });
  // @ts-expect-error a password is required
  await login(url, { username: 'alice' });
  const fresh: string = (await refresh(url, session.token)).token;
  const me = await request(url, MeDocument, {}, { token: fresh });
  const online: boolean = me.me.online;
  // @ts-expect-error SendMessage needs its input
  await request(url, SendMessageDocument, {}, { token: fresh });
  const sent = await request(url, SendMessageDocument, { input: { roomId: 'r', body: 'hi' } }, { token: fresh });
  const seq: number = sent.sendMessage.seq;
  const chat = createChatClient({ url, token: () => fresh });
  const state: ConnectionState = chat.state;
  const code: number | null = state.status === 'reconnecting' ? state.reason.code : null;
  const exchange: Exchange = chatSubscriptionExchange(chat);
  const link: GraphQLWsLink = chatWsLink(chat);
  try {
    await chat.request(MeDocument);
  } catch (error) {
    if (error instanceof ChatRequestError) {
      const refused: ChatErrorCode | undefined = error.code;
      return refused ?? '';
    }
  }
  return [online, seq, code, exchange, link, chatTypePolicies].join();
}
`;

const TSCONFIG = JSON.stringify({
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  },
  files: ['check.ts'],
});

/**
 * The round trip, the same in both apps: sign up, sign in (and a wrong
 * password refused with its code), refresh, create a room, post a first
 * message, then follow the room from it through the kit and through the
 * app's library helper, send, and report what each received and the
 * connection states seen. Following from the first message's cursor makes
 * the order of subscribe and send irrelevant: nothing to wait for.
 */
const ROUND_TRIP = `
async function roundTrip(url, username) {
  const password = 'correct horse battery';
  const registered = await kit.register(url, { username, password });
  const { token, user } = await kit.login(url, { username, password });
  const wrong = await kit.login(url, { username, password: 'not the password' }).catch((error) => error);
  const refreshed = await kit.refresh(url, token);
  const { createRoom: room } = await kit.request(url, kit.CreateRoomDocument, { input: { name: username + ' room' } }, { token });
  const { sendMessage: first } = await kit.request(url, kit.SendMessageDocument, { input: { roomId: room.id, body: 'first' } }, { token });

  const chat = kit.createChatClient({ url, token: () => token, webSocketImpl: WebSocket });
  const states = [chat.state.status];
  chat.onStateChange((state) => states.push(state.status));
  const viaKit = new Promise((resolve, reject) =>
    chat.subscribe(kit.MessageAddedDocument, { roomId: room.id, after: first.cursor }, {
      next: ({ data }) => resolve(data.messageAdded.body),
      error: reject,
    }),
  );
  const viaHelper = new Promise((resolve, reject) => followWithHelper(chat, room.id, first.cursor, resolve, reject));
  const body = 'hello from ' + username;
  await kit.request(url, kit.SendMessageDocument, { input: { roomId: room.id, body } }, { token });
  const received = { kit: await viaKit, helper: await viaHelper };
  const stateWhenReceived = chat.state.status;
  await chat.dispose();
  return {
    sameUser: registered.user.id === user.id && refreshed.user.id === user.id,
    refreshedToken: typeof refreshed.token === 'string' && refreshed.token.length > 0,
    wrongLogin: wrong instanceof kit.ChatRequestError ? wrong.code : String(wrong),
    sent: body,
    received,
    stateWhenReceived,
    states,
  };
}
roundTrip(process.argv[2], process.argv[3]).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
`;

interface App {
  type: 'commonjs' | 'module';
  /** The library whose kit helper the app also subscribes through. */
  helper: 'urql' | 'Apollo Client';
  script: string;
}

const APPS: App[] = [
  {
    type: 'commonjs',
    helper: 'Apollo Client',
    script: `const WebSocket = require('ws');
const { ApolloClient, InMemoryCache } = require('@apollo/client');
const kit = require('@chat/client');
const { chatTypePolicies, chatWsLink } = require('@chat/client/apollo');

function followWithHelper(chat, roomId, after, resolve, reject) {
  const apollo = new ApolloClient({ link: chatWsLink(chat), cache: new InMemoryCache({ typePolicies: chatTypePolicies }) });
  apollo.subscribe({ query: kit.MessageAddedDocument, variables: { roomId, after } }).subscribe({
    next: (result) => (result.data ? resolve(result.data.messageAdded.body) : reject(result.error)),
    error: reject,
  });
}
${ROUND_TRIP}`,
  },
  {
    type: 'module',
    helper: 'urql',
    script: `import WebSocket from 'ws';
import { Client } from '@urql/core';
import * as kit from '@chat/client';
import { chatSubscriptionExchange } from '@chat/client/urql';

function followWithHelper(chat, roomId, after, resolve, reject) {
  const urql = new Client({ url: 'http://unused.invalid/graphql', exchanges: [chatSubscriptionExchange(chat)] });
  urql.subscription(kit.MessageAddedDocument, { roomId, after }).subscribe((result) =>
    result.data ? resolve(result.data.messageAdded.body) : reject(result.error),
  );
}
${ROUND_TRIP}`,
  },
];

const appDir = (app: App) => join(work, `app-${app.type}`);

/** The README's kit example, as it stands there. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /<!-- kit example:[^\n]*-->\n```js\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no kit example block');
  return block;
}

beforeAll(async () => {
  mkdirSync(tarballs);
  // prepack builds client/dist first.
  await run('npm', ['pack', '--pack-destination', tarballs], { cwd: join(root, 'client'), env: cleanEnv() });
  kitTarball = join(tarballs, `chat-client-${kitPackage.version}.tgz`);
  packedFiles = (await run('tar', ['-tzf', kitTarball])).stdout.split('\n').filter(Boolean);
  const dependencies = withDependencies([...APP_PACKAGES, ...kitDependencies]);
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tarballs, ...dependencies], { cwd: work, env: cleanEnv() });
  const all = readdirSync(tarballs).map((name) => join(tarballs, name));
  for (const app of APPS) {
    const dir = appDir(app);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `kit-app-${app.type}`, private: true, type: app.type }));
    writeFileSync(join(dir, 'app.js'), app.script);
    writeFileSync(join(dir, 'check.ts'), CHECK_TS);
    writeFileSync(join(dir, 'tsconfig.json'), TSCONFIG);
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...all], { cwd: dir, env: cleanEnv() });
  }
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Plain node in the app's directory, resolving from its own node_modules only. */
const node = (app: App, args: string[]) => run(process.execPath, args, { cwd: appDir(app), env: cleanEnv(), timeout: 30_000 });

describe('the packed kit (@chat/client)', () => {
  it('holds only the built kit: ES modules and CommonJS with declarations for each entry point, package.json and README', () => {
    const paths = packedFiles.map((path) => path.replace(/^package\//, ''));
    expect(paths.filter((path) => !path.startsWith('dist/')).sort()).toEqual(['README.md', 'package.json']);
    expect(paths.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
    for (const entry of ['index', 'urql', 'apollo'])
      for (const format of ['esm', 'cjs'])
        expect(paths).toEqual(expect.arrayContaining([`dist/${format}/${entry}.js`, `dist/${format}/${entry}.d.ts`]));
    expect(paths).toContain('dist/cjs/package.json'); // {"type":"commonjs"} for dist/cjs
  });

  for (const app of APPS) {
    it(`type-checks in a "type": "${app.type}" app against the packed declarations (root, urql and apollo entry points)`, async () => {
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const result = await node(app, [tsc, '-p', 'tsconfig.json']).catch((error: { stdout: string }) => error);
      expect('stdout' in result ? result.stdout : '').toBe('');
    });
  }
});

forEachBackend('The packed kit against a started server', (s) => {
  for (const app of APPS) {
    it(`runs sign-up, sign-in, subscribe, send and receive with plain node in a "type": "${app.type}" app, through the kit and ${app.helper}`, async () => {
      const username = uniqueName(`kit_${app.type === 'module' ? 'esm' : 'cjs'}`);
      const { stdout } = await node(app, ['app.js', `${s.a.url}/graphql`, username]);
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(result).toEqual({
        sameUser: true,
        refreshedToken: true,
        wrongLogin: 'UNAUTHENTICATED',
        sent: `hello from ${username}`,
        received: { kit: `hello from ${username}`, helper: `hello from ${username}` },
        stateWhenReceived: 'live',
        states: ['idle', 'connecting', 'live', 'closed'],
      });
    });
  }

  it('runs the README’s kit example as it stands, from the packed kit', async () => {
    const esm = APPS.find((app) => app.type === 'module')!;
    const script = join(appDir(esm), `readme-example-${s.name}.js`);
    writeFileSync(script, readmeExample().replaceAll('http://localhost:4000', s.a.url));
    const { stdout } = await node(esm, [script]);
    expect(stdout.split('\n').filter(Boolean)).toEqual([
      'socket: connecting',
      'socket: live',
      'alice: anyone here?',
      'socket: closed',
    ]);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Logger } from '../logger.js';
import { assetList, GRAPHIQL_BUILD_DIR, graphiqlAssets, type GraphiQLAssets } from './graphiql-assets.js';
import { contentTypeOf, IMMUTABLE, REVALIDATE, sendStatic, staticFile, type StaticFile } from './static-files.js';
import { GRAPHQL_PATH } from './yoga.js';

/**
 * The document GraphiQL opens with (a `?query=` in the URL, or a tab the
 * browser kept, takes its place): a few named operations to run in order,
 * each with the default values that make it run as it is.
 */
export const EXAMPLE_OPERATIONS = `# Welcome to the Chat API. Run the operations below in order
# (the play button offers each by name).
#
# 1. Register (or Login) answers a token. Open the Headers tab and paste
#      { "Authorization": "Bearer <token>" }
#    Once is enough: every tab (new ones too) and the WebSocket of
#    subscriptions use it, as the line above the editor says.
# 2. CreateRoom answers the room's id: put it in the Variables tab as
#      { "roomId": "<id>" }
# 3. Run MessageAdded in a second tab (the + above the editor), then
#    SendMessage here: the message arrives there live.
#
# The whole schema, with every rule in its descriptions: the Docs pane, or
# schema.graphql in the repository.

mutation Register($username: String! = "alice", $password: String! = "correct horse battery") {
  register(input: { username: $username, password: $password }) {
    token
    user { id username }
  }
}

mutation Login($username: String! = "alice", $password: String! = "correct horse battery") {
  login(input: { username: $username, password: $password }) {
    token
  }
}

mutation CreateRoom($name: String! = "general") {
  createRoom(input: { name: $name }) { id name }
}

query MyRooms {
  myRooms { id name unreadCount }
}

mutation SendMessage($roomId: ID!, $body: String! = "Hello!") {
  sendMessage(input: { roomId: $roomId, body: $body }) {
    id seq body createdAt author { username }
  }
}

query History($roomId: ID!) {
  messages(roomId: $roomId, last: 20) {
    edges { node { seq body author { username } } }
    pageInfo { hasPreviousPage startCursor }
  }
}

# Live messages; after: a message's cursor resumes with what came since.
subscription MessageAdded($roomId: ID!) {
  messageAdded(roomId: $roomId) { seq body author { username } }
}
`;

/** Where GraphiQL's files are served (each under its content-hashed name). */
export const GRAPHIQL_ASSET_PATH = '/graphiql/';

/** GraphiQL for a browser: its page at GET /graphql (Accept: text/html) and its files under /graphiql/. */
export interface GraphiQLSite {
  /** Answers a request for the page or one of its files and returns true; false leaves it to the next route. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Scripts only from here (no inline script: the page's settings travel as
 * JSON), styles inline too (React sets style attributes), Monaco's workers
 * from here, and no connection but to this origin (HTTP and WebSocket).
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
    "connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * The page: yoga's GraphiQL component, started by the page's own script
 * (web/graphiql/chat-graphiql.js) with these settings and its own fetcher,
 * which signs every tab and the subscription socket in with the token
 * entered once and shows a refused socket's close code and reason.
 */
export function renderGraphiQLPage(assets: GraphiQLAssets, title: string): string {
  const url = (asset: { name: string }) => `${GRAPHIQL_ASSET_PATH}${asset.name}`;
  const settings = {
    endpoint: GRAPHQL_PATH,
    options: { title, defaultQuery: EXAMPLE_OPERATIONS, shouldPersistHeaders: true },
    workers: {
      editorWorkerService: url(assets.workers.editorWorkerService),
      json: url(assets.workers.json),
      graphql: url(assets.workers.graphql),
    },
  };
  // `<` escaped, so no text in the settings can close the script element.
  const json = JSON.stringify(settings).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(title)}</title>
    <link rel="icon" href="${url(assets.favicon)}" />
    <link rel="stylesheet" href="${url(assets.style)}" />
    <script id="graphiql-settings" type="application/json">${json}</script>
    <script src="${url(assets.page)}"></script>
    <script src="${url(assets.graphqlWs)}"></script>
    <script src="${url(assets.script)}"></script>
  </head>
  <body>
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="chat-graphiql-auth" role="status" aria-live="polite"></div>
    <div id="root"></div>
  </body>
</html>
`;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface Loaded {
  page: StaticFile;
  files: Map<string, StaticFile>;
  /** Assets the build had no compressed copy of (a build older than the installed packages, or none). */
  uncompressed: string[];
}

/** One load per process and build directory: every app of a test process serves the same bytes. */
const loads = new Map<string, Promise<Loaded>>();

/**
 * GraphiQL's page and files, in memory, with the brotli and gzip copies the
 * build wrote (web/dist-graphiql; a file without them is served as it is,
 * and a warning says how to build them). The page is rendered and compressed
 * once here; it is revalidated on every load (ETag), since a new release
 * names other files.
 */
export async function loadGraphiQL(title: string, logger: Logger, buildDir = GRAPHIQL_BUILD_DIR): Promise<GraphiQLSite> {
  const key = `${buildDir}\0${title}`;
  let load = loads.get(key);
  if (!load) loads.set(key, (load = loadSite(title, buildDir)));
  const { page, files, uncompressed } = await load;
  if (uncompressed.length > 0) {
    logger.warn('GraphiQL is served uncompressed: run `npm run build:web` to compress it once', { files: uncompressed });
  }
  return {
    serve(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const path = query < 0 ? url : url.slice(0, query);
      if (path.startsWith(GRAPHIQL_ASSET_PATH)) {
        const file = files.get(path.slice(GRAPHIQL_ASSET_PATH.length));
        if (!file) return false;
        sendStatic(req, res, file, { 'x-content-type-options': 'nosniff' });
        return true;
      }
      // As yoga decides: a browser's GET of the endpoint (it accepts HTML) gets GraphiQL, with or without ?query=.
      if ((path !== GRAPHQL_PATH && path !== `${GRAPHQL_PATH}/`) || !req.headers.accept?.includes('text/html')) return false;
      sendStatic(req, res, page, PAGE_HEADERS);
      return true;
    },
  };
}

async function loadSite(title: string, buildDir: string): Promise<Loaded> {
  const assets = await graphiqlAssets();
  const files = new Map<string, StaticFile>();
  const uncompressed: string[] = [];
  for (const { name, body } of assetList(assets)) {
    const built = (suffix: string) => {
      const path = join(buildDir, name + suffix);
      return existsSync(path) ? readFileSync(path) : null;
    };
    const compressed = { br: built('.br'), gzip: built('.gz') };
    if (!compressed.br && !compressed.gzip) uncompressed.push(name);
    files.set(name, staticFile(body, contentTypeOf(name), IMMUTABLE, compressed));
  }
  const html = Buffer.from(renderGraphiQLPage(assets, title));
  const page = staticFile(html, 'text/html; charset=utf-8', REVALIDATE, {
    br: brotliCompressSync(html, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    gzip: gzipSync(html, { level: 9 }),
  });
  return { page, files, uncompressed };
}

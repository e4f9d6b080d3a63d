import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the build (scripts/build-web.mjs) writes the brotli and gzip copies
 * of GraphiQL's assets, named `<asset name>.br` / `.gz`: the same path from
 * src/transport/ and from dist/transport/.
 */
export const GRAPHIQL_BUILD_DIR = fileURLToPath(new URL('../../web/dist-graphiql', import.meta.url));

/** The page's own script: the shared token, the fetcher and the socket (web/graphiql/chat-graphiql.js). */
const PAGE_SCRIPT = fileURLToPath(new URL('../../web/graphiql/chat-graphiql.js', import.meta.url));

/** One file GraphiQL's page loads, named by its content (`graphiql.1a2b3c4d5e.js`), so it can be cached for good. */
export interface GraphiQLAsset {
  readonly name: string;
  readonly body: Buffer;
}

/** Everything GraphiQL's page loads from this server, besides the page itself. */
export interface GraphiQLAssets {
  /** yoga's GraphiQL (React, Monaco, the explorer): the global `YogaGraphiQL`. */
  readonly script: GraphiQLAsset;
  readonly style: GraphiQLAsset;
  readonly favicon: GraphiQLAsset;
  /** graphql-ws's browser client (the global `graphqlWs`), the same release as the server's. */
  readonly graphqlWs: GraphiQLAsset;
  readonly page: GraphiQLAsset;
  /** Monaco's web workers, by the label Monaco asks for (MonacoEnvironment.getWorkerUrl). */
  readonly workers: {
    readonly editorWorkerService: GraphiQLAsset;
    readonly json: GraphiQLAsset;
    readonly graphql: GraphiQLAsset;
  };
}

/**
 * GraphiQL as separate files rather than yoga's one 9 MB page with every
 * script and worker inlined: each file cacheable for good under a name of
 * its content, and compressible once at build. Made from the installed
 * packages (the build and the server make the same names from the same
 * bytes); render-graphiql is loaded only here, so a server with GraphiQL off
 * never loads it.
 */
export async function graphiqlAssets(): Promise<GraphiQLAssets> {
  const graphiql = await import('@graphql-yoga/render-graphiql/graphiql');
  const require = createRequire(import.meta.url);
  const graphqlWsDir = dirname(require.resolve('graphql-ws/package.json'));
  const favicon = /^data:[^;,]*;base64,(.*)$/.exec(graphiql.favicon)?.[1];
  return {
    script: asset('graphiql', '.js', graphiql.js),
    style: asset('graphiql', '.css', graphiql.css),
    favicon: asset('favicon', '.ico', favicon ? Buffer.from(favicon, 'base64') : Buffer.alloc(0)),
    graphqlWs: asset('graphql-ws', '.js', readFileSync(join(graphqlWsDir, 'umd/graphql-ws.min.js'))),
    page: asset('chat-graphiql', '.js', readFileSync(PAGE_SCRIPT)),
    workers: {
      editorWorkerService: asset('editor.worker', '.js', graphiql.editorWorkerService),
      json: asset('json.worker', '.js', graphiql.jsonWorker),
      graphql: asset('graphql.worker', '.js', graphiql.graphqlWorker),
    },
  };
}

/** Every asset, for the build and the server's loader. */
export function assetList(assets: GraphiQLAssets): GraphiQLAsset[] {
  const { workers, ...files } = assets;
  return [...Object.values(files), ...Object.values(workers)];
}

function asset(base: string, extension: string, content: string | Buffer): GraphiQLAsset {
  const body = typeof content === 'string' ? Buffer.from(content) : content;
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  return { name: `${base}.${hash}${extension}`, body };
}

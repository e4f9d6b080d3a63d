import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build, defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The service worker (src/sw.ts) as /sw.js: at the site's root, so its scope
 * is the whole site, and one classic script (an IIFE, no imports), which
 * every browser with Web Push runs (module service workers are not
 * everywhere yet). Built on its own after the page's build (into the same
 * directory), and bundled on request by the dev server.
 */
function serviceWorker(): Plugin {
  const bundle = (write: boolean, outDir?: string) =>
    build({
      configFile: false,
      root,
      logLevel: 'warn',
      publicDir: false,
      build: {
        write,
        outDir,
        emptyOutDir: false,
        sourcemap: write,
        lib: { entry: 'src/sw.ts', formats: ['iife'], name: 'chatServiceWorker', fileName: () => 'sw.js' },
      },
    });
  let outDir = 'dist';
  let building = false;
  return {
    name: 'chat-service-worker',
    configResolved(config) {
      outDir = config.build.outDir;
      building = config.command === 'build';
    },
    // The dev server calls it too, when it closes.
    async closeBundle() {
      if (building) await bundle(true, outDir);
    },
    configureServer(server) {
      server.middlewares.use((req, res: ServerResponse, next) => {
        if (req.url?.split('?')[0] !== '/sw.js') return next();
        bundle(false).then(
          (output) => {
            const chunk = [output]
              .flat()
              .flatMap((o) => ('output' in o ? o.output : []))
              .find((file) => file.type === 'chunk');
            res.setHeader('content-type', 'text/javascript; charset=utf-8');
            res.end(chunk && 'code' in chunk ? chunk.code : '');
          },
          (error: unknown) => next(error),
        );
      });
    },
  };
}

// The browser client. `npm run build:web` writes web/dist, which the server
// serves at `/`; `npm run dev:web` serves it with live reload and sends
// /graphql (HTTP and WebSocket) to a server at CHAT_API (default localhost:4000).
export default defineConfig({
  root,
  plugins: [serviceWorker()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // Inlined assets would need data: in the page's script and style policy.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/graphql': { target: process.env.CHAT_API ?? 'http://localhost:4000', ws: true, changeOrigin: false },
    },
  },
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser client. `npm run build:web` writes web/dist, which the server
// serves at `/`; `npm run dev:web` serves it with live reload and sends
// /graphql (HTTP and WebSocket) to a server at CHAT_API (default localhost:4000).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
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

import { beforeAll, describe, expect, it } from 'vitest';
import { upgradeStatus } from '../support/raw-socket.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const ALLOWED = 'https://chat.example';
const OTHER = 'https://evil.example';
const TYPENAME = JSON.stringify({ query: '{ __typename }' });

const post = (app: App, headers: Record<string, string>) =>
  fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: TYPENAME });
const preflight = (app: App, origin: string) =>
  fetch(`${app.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
const corsHeaders = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));

/** Opens an SSE subscription and reports its status and type; the stream is dropped. */
async function sse(app: App, init: { method: 'GET' | 'POST'; headers: Record<string, string> }) {
  const query = 'subscription { myEvents { __typename } }';
  const url = init.method === 'GET' ? `${app.url}/graphql?query=${encodeURIComponent(query)}` : `${app.url}/graphql`;
  const abort = new AbortController();
  const response = await fetch(url, {
    method: init.method,
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...init.headers },
    body: init.method === 'POST' ? JSON.stringify({ query }) : undefined,
    signal: abort.signal,
  });
  const result = { status: response.status, type: response.headers.get('content-type') };
  abort.abort();
  return result;
}

forEachBackend('Origins', (s) => {
  let listed: App;
  let anyOrigin: App;
  beforeAll(async () => {
    [listed, anyOrigin] = await Promise.all([
      s.backend.startApp({ corsOrigins: [ALLOWED] }),
      s.backend.startApp({ corsOrigins: ['*'] }),
    ]);
  });

  describe('CORS on HTTP', () => {
    it('reflects an allowed origin (with credentials) and gives a disallowed one no CORS headers at all', async () => {
      const allowed = await post(listed, { origin: ALLOWED });
      expect(corsHeaders(allowed)).toMatchObject({
        'access-control-allow-origin': ALLOWED,
        'access-control-allow-credentials': 'true',
      });
      const other = await post(listed, { origin: OTHER });
      expect(corsHeaders(other)).toEqual({});
    });

    it('allows no cross-origin browser by default, but same-origin pages and clients that send no Origin', async () => {
      expect(corsHeaders(await post(s.a, { origin: ALLOWED }))).toEqual({});
      const same = await post(s.a, { origin: s.a.url });
      expect(same.headers.get('access-control-allow-origin')).toBe(s.a.url);
      const none = await post(s.a, {});
      expect(corsHeaders(none)).toEqual({});
      expect(await none.json()).toEqual({ data: { __typename: 'Query' } });
    });

    it('answers a preflight of an allowed origin with the methods and headers, and one of a disallowed origin without', async () => {
      const allowed = await preflight(listed, ALLOWED);
      expect(allowed.status).toBe(204);
      expect(corsHeaders(allowed)).toMatchObject({
        'access-control-allow-origin': ALLOWED,
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'authorization, content-type',
      });
      expect(corsHeaders(await preflight(listed, OTHER))).toEqual({});
    });

    it('with CORS_ORIGINS=*, allows any origin but never with credentials', async () => {
      const response = await post(anyOrigin, { origin: OTHER });
      expect(response.headers.get('access-control-allow-origin')).toBe(OTHER);
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    });
  });

  describe('the WebSocket upgrade', () => {
    it('is refused with 403 for a disallowed Origin, before any WebSocket exists', async () => {
      expect(await upgradeStatus(listed, { origin: OTHER })).toBe(403);
      expect(await upgradeStatus(s.a, { origin: ALLOWED })).toBe(403);
      expect(await upgradeStatus(listed, { origin: 'null' })).toBe(403);
    });

    it('is accepted for an allowed Origin, the same origin, no Origin, and any Origin under *', async () => {
      expect(await upgradeStatus(listed, { origin: ALLOWED })).toBe(101);
      expect(await upgradeStatus(listed, { origin: listed.url })).toBe(101);
      expect(await upgradeStatus(listed, {})).toBe(101);
      expect(await upgradeStatus(anyOrigin, { origin: OTHER })).toBe(101);
    });
  });

  describe('SSE', () => {
    it('refuses a subscription over SSE from a disallowed Origin with 403, GET or POST', async () => {
      const user = await s.seed.user();
      const headers = { origin: OTHER, authorization: `Bearer ${user.token}` };
      expect(await sse(listed, { method: 'GET', headers })).toMatchObject({ status: 403 });
      expect(await sse(listed, { method: 'POST', headers })).toMatchObject({ status: 403 });
    });

    it('streams a subscription over SSE for an allowed Origin and for no Origin', async () => {
      const user = await s.seed.user();
      const auth = { authorization: `Bearer ${user.token}` };
      const stream = { status: 200, type: expect.stringContaining('text/event-stream') };
      expect(await sse(listed, { method: 'GET', headers: { ...auth, origin: ALLOWED } })).toEqual(stream);
      expect(await sse(listed, { method: 'POST', headers: auth })).toEqual(stream);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendNames, createBackend } from '../support/backends.js';
import { codes, eventually, gql, gqlOk } from '../support/client.js';
import { testConfig } from '../support/config.js';
import { seeder } from '../support/seed.js';
import { createApp, createMemoryBus, openDatabase, type App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';
import { TcpProxy } from '../support/tcp-proxy.js';

forEachBackend('HTTP server', (s) => {
  it('answers GET /healthz with 200 {"status":"ok"} when the backing services answer', async () => {
    const response = await fetch(`${s.a.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves GraphiQL to a browser at /graphql, with subscriptions over WebSocket', async () => {
    const response = await fetch(`${s.a.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(/graphiql/i);
    // Subscriptions go over graphql-ws's browser client, served from here with GraphiQL's own files.
    expect(html).toMatch(/<script src="\/graphiql\/graphql-ws\.\w+\.js"><\/script>/);
  });

  it('executes queries sent with GET', async () => {
    const user = await s.seed.user();
    const url = `${s.a.url}/graphql?query=${encodeURIComponent('{ me { id } }')}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${user.token}`, accept: 'application/json' } });
    expect(await response.json()).toEqual({ data: { me: { id: user.id } } });
  });

  it('refuses a document that does not parse with GRAPHQL_PARSE_FAILED and an invalid one with GRAPHQL_VALIDATION_FAILED', async () => {
    expect(codes(await gql(s.a, '{ me { id '))).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes(await gql(s.a, '{ me { nope } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  // Body size limits: limits.test.ts.

  it('answers unknown paths with 404', async () => {
    expect((await fetch(`${s.a.url}/nope`)).status).toBe(404);
  });
});

describe('Unexpected errors', () => {
  let app: App;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const database = await openDatabase({ kind: 'pglite', dir: null });
    close = () => database.close();
    app = createApp(testConfig(), { shared: { database, bus: createMemoryBus() } });
    await app.start();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('are masked as INTERNAL_SERVER_ERROR with no internals, and /healthz turns 503 naming the database', async () => {
    const user = await seeder(app).user();
    await close(); // every query now fails inside the driver
    const result = await gql(app, 'query { myRooms { id name } }', {}, user.token);
    expect(codes(result)).toEqual(['INTERNAL_SERVER_ERROR']);
    const text = JSON.stringify(result);
    expect(text).not.toMatch(/select|pglite|stack|at .*\.ts/i);
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'unavailable', failed: ['database'] });
  });
});

if (backendNames().includes('services')) {
  describe('Backing services cut off [services]', () => {
    let app: App;
    let pg: TcpProxy;
    let redis: TcpProxy;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      const backend = await createBackend('services');
      const config = backend.config;
      if (config.database.kind !== 'postgres' || !config.redis) throw new Error('services backend expected');
      pg = TcpProxy.forUrl(config.database.url);
      redis = TcpProxy.forUrl(config.redis.url);
      await Promise.all([pg.start(), redis.start()]);
      app = createApp({
        ...config,
        database: { ...config.database, url: pg.rewrite(config.database.url) },
        redis: { url: redis.rewrite(config.redis.url) },
      });
      await app.start();
      dispose = async () => {
        await app.stop();
        await Promise.all([pg.cut(), redis.cut()]);
        await backend.dispose();
      };
    });
    afterAll(async () => {
      await dispose?.();
    });

    it('keeps committing messages while Redis is unreachable, and /healthz names redis', async () => {
      const seed = seeder(app);
      const alice = await seed.user('alice');
      const room = await seed.room(alice);
      await redis.cut();
      const started = Date.now();
      const sent = await seed.send(alice, room, 'redis is down');
      expect(sent.seq).toBe(1);
      expect(Date.now() - started).toBeLessThan(5000); // not stuck behind Redis' offline queue
      const health = await fetch(`${app.url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: 'unavailable', failed: ['redis'] });
      // Redis-backed state (typing) answers SERVICE_UNAVAILABLE, not a masked error.
      const typing = await gql(app, 'mutation($r: ID!) { setTyping(roomId: $r, typing: true) }', { r: room.id }, alice.token);
      expect(codes(typing)).toEqual(['SERVICE_UNAVAILABLE']);
      await redis.restore();
    });

    it('answers SERVICE_UNAVAILABLE while Postgres is unreachable, and recovers after', async () => {
      const seed = seeder(app);
      const alice = await seed.user('alice');
      await pg.cut();
      const result = await gql(app, 'query { myRooms { id } }', {}, alice.token);
      expect(codes(result)).toEqual(['SERVICE_UNAVAILABLE']);
      const health = await fetch(`${app.url}/healthz`);
      expect(health.status).toBe(503);
      expect((await health.json()).failed).toContain('database');
      await pg.restore();
      // Retried while the pool reconnects: nothing announces that it has.
      const data = await eventually(
        async () => (await gql(app, 'query { myRooms { id } }', {}, alice.token)).data,
        'myRooms to answer again',
        5_000,
        250,
      );
      expect(data).toEqual({ myRooms: [] });
      expect(await gqlOk(app, '{ me { id } }', {}, alice.token)).toEqual({ me: { id: alice.id } });
    });
  });
}

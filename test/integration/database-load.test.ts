import { sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { gql, gqlOk } from '../support/client.js';
import type { TestRoom, TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const MESSAGES = 200_000;
const CHUNK = 20_000;
/** Matches every seeded message: the most a search can have to rank. */
const COMMON = 'hello world';
const FLOOD = `query($r: ID!) { ${Array.from({ length: 30 }, (_, i) => `s${i}: searchMessages(query: "${COMMON}", roomId: $r, first: 100) { id }`).join(' ')} }`;

/**
 * Issue 19, finding 1: searches allowed one by one, sent thirty at a time
 * against a room of 200,000 messages, filled the pool; calls still waiting
 * for a connection at their deadline counted as "database unreachable", the
 * breaker opened and the instance answered SERVICE_UNAVAILABLE to everyone,
 * /healthz 503. Now expensive reads take turns of their own, waiting is not
 * taken for silence, and the searches that get no turn within their
 * operation's budget are refused as busy.
 */
forEachBackend('Database under an expensive-read flood', (s) => {
  let alice: TestUser;
  let room: TestRoom;
  let flooded: App;

  beforeAll(async () => {
    alice = await s.seed.user('alice');
    room = await s.seed.room(alice);
    const { db } = await s.backend.database();
    for (let from = 1; from <= MESSAGES; from += CHUNK) {
      await db.execute(sql`
        insert into messages (room_id, seq, timeline_no, author_id, body)
        select ${room.id}::uuid, g, g, ${alice.id}::uuid,
          'message ' || g || ' about the ' || (array['weather', 'project', 'lunch', 'deploy'])[1 + g % 4] || ', hello world'
        from generate_series(${from}::int, ${from + CHUNK - 1}::int) g`);
    }
    await db.execute(sql`update rooms set last_seq = ${MESSAGES}, timeline_count = ${MESSAGES} where id = ${room.id}::uuid`);
    await db.execute(sql`analyze messages`);
    // Embedded PGlite ran those statements on this process's event loop, for
    // seconds: let the timers that fell due meanwhile (idle keep-alive
    // sockets closed by the server) run before the next request.
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Postgres: an instance whose pool the flood would fill many times over
    // within its deadline (two connections, 1.5 s). Embedded PGlite runs one
    // statement at a time whatever the pool, with the default deadline.
    flooded =
      s.name === 'services' && s.backend.config.database.kind === 'postgres'
        ? await s.backend.startApp({
            database: {
              ...s.backend.config.database,
              poolSize: 2,
              queryTimeoutMs: 1500,
              searchTimeoutMs: 1000,
              expensiveConcurrency: 1,
            },
          })
        : s.a;
  }, 240_000);

  it('searches a room of 200,000 messages within the search time limit, best match first', async () => {
    const found = await gqlOk(
      s.a,
      'query($q: String!, $r: ID!) { searchMessages(query: $q, roomId: $r, first: 100) { seq body } }',
      { q: COMMON, r: room.id },
      alice.token,
    );
    expect(found.searchMessages).toHaveLength(100);
    // Every message ranks the same here: the newest come first among equals.
    expect(found.searchMessages[0].seq).toBe(MESSAGES);
  });

  it('thirty aliased searches leave the breaker closed, /healthz 200 and other users answered; the ones without a turn are refused as busy', async () => {
    const bob = await s.seed.user('bob');
    const bobsRoom = await s.seed.room(bob);
    let flooding = true;
    const flood = gql(flooded, FLOOD, { r: room.id }, alice.token).finally(() => (flooding = false));
    // The balancer's view all along: /healthz asked again and again until the flood is answered.
    const probes = (async () => {
      const statuses: number[] = [];
      while (flooding) statuses.push((await fetch(`${flooded.url}/healthz`)).status);
      return statuses;
    })();
    // While the flood runs: another user's reads and a send.
    const [me, sent] = await Promise.all([
      gql(flooded, 'query { me { id } myRooms { id } }', {}, bob.token),
      gql(
        flooded,
        'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }',
        { i: { roomId: bobsRoom.id, body: 'still here' } },
        bob.token,
      ),
    ]);
    expect(me.errors).toBeUndefined();
    expect(me.data.me.id).toBe(bob.id);
    expect(sent.errors).toBeUndefined();

    const result = await flood;
    const statuses = await probes;
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([200]));
    // A search that found no turn within the operation's budget is told to come back (graphql-js
    // answers at the first error of a non-null root field, so there is one).
    expect(result.errors?.length).toBeGreaterThanOrEqual(1);
    for (const error of result.errors!) {
      expect(error.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryAfter: 1 });
      expect(error.message).toMatch(/busy/);
    }

    // Nothing took the database for gone: the instance answers everyone.
    expect((await fetch(`${flooded.url}/healthz`)).status).toBe(200);
    const after = await gqlOk(
      flooded,
      'query($r: ID!) { messages(roomId: $r, last: 1) { edges { node { seq } } } }',
      { r: room.id },
      alice.token,
    );
    expect(after.messages.edges[0].node.seq).toBe(MESSAGES);
  });
});

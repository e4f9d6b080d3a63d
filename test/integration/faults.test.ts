import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { codes, gql, gqlOk, sleep } from '../support/client.js';
import { seeder } from '../support/seed.js';

const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }';

// Real Postgres sessions to kill: only with TEST_DATABASE_URL.
describe.runIf(backendNames().includes('services'))('Postgres sessions terminated under load [services]', () => {
  let backend: Backend;
  let app: App;
  let admin: postgres.Sql;
  beforeAll(async () => {
    backend = await createBackend('services');
    app = await backend.startApp();
    admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.end({ timeout: 2 });
    await backend?.dispose();
  });

  it('keeps the process alive and answering, with seq still gapless, while its sessions are killed', async () => {
    const seed = seeder(app);
    const alice = await seed.user('alice');
    const room = await seed.room(alice);
    const dbName = new URL((backend.config.database as { url: string }).url).pathname.slice(1);

    let sending = true;
    const outcomes: string[] = [];
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; sending; i++) {
        const result = await gql(app, SEND, { i: { roomId: room.id, body: `w${w} #${i}` } }, alice.token);
        outcomes.push(result.errors ? String(codes(result)[0]) : 'ok');
      }
    });
    // Kill every session of the app's database a few times while it writes.
    for (let round = 0; round < 5; round++) {
      await sleep(150);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
    }
    await sleep(300);
    sending = false;
    await Promise.all(senders);

    // Failures, if any, are the contract's SERVICE_UNAVAILABLE, never a masked internal error.
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'SERVICE_UNAVAILABLE').length).toBeGreaterThan(0); // the kills did land

    // The process lives on and answers; what committed is 1..n with no gap.
    let after = null;
    for (let i = 0; i < 20 && !after; i++) {
      const retry = await gql(app, SEND, { i: { roomId: room.id, body: 'after the storm' } }, alice.token);
      after = retry.data?.sendMessage ?? null;
      if (!after) await sleep(200);
    }
    expect(after).not.toBeNull();
    const history = await gqlOk(app, 'query($r: ID!) { messages(roomId: $r, last: 200) { edges { node { seq } } } }', { r: room.id }, alice.token);
    const seqs = history.messages.edges.map((e: { node: { seq: number } }) => e.node.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
    expect(seqs.at(-1)).toBe(after.seq);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});

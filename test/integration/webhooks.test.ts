import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { OutboxStore } from '../../src/outbox/outbox.store.js';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { codes, eventually, gql, gqlOk } from '../support/client.js';
import { TEST_SECRET, testWebhooks } from '../support/config.js';
import { scrape, value } from '../support/metrics.js';
import { seeder } from '../support/seed.js';
import type { App, Config } from '../support/server.js';
import { sourceStart, startProcess, type Started } from '../support/spawned.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Webhooks from the transactional outbox, received on loopback by a
 * receiver that verifies every request with `standardwebhooks`: the README's
 * "Webhooks", the contract's "Notifications for people who are not connected".
 */

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const SECRET = secret();
const PREVIOUS = secret();

const EDIT = 'mutation($id: ID!, $body: String!) { editMessage(input: { id: $id, body: $body }) { id } }';
const DELETE = 'mutation($id: ID!) { deleteMessage(id: $id) { id } }';
const REPORT = 'mutation($m: ID!) { reportMessage(messageId: $m, reason: SPAM) { id } }';
const KICK = 'mutation($r: ID!, $u: ID!) { kickMember(roomId: $r, userId: $u) }';
const BAN = 'mutation($r: ID!, $u: ID!) { banMember(roomId: $r, userId: $u, reason: "spam") { expiresAt } }';

for (const backendName of backendNames()) {
  describe(`Webhooks [${backendName}]`, () => {
    let backend: Backend;
    let receiver: WebhookReceiver;

    /** An app delivering to these paths of the receiver, quickly: short polls and retries. */
    const startApp = (paths: string[], webhooks: Partial<Config['webhooks']> = {}) =>
      backend.startApp({
        webhooks: testWebhooks({
          urls: paths.map((path) => receiver.url(path)),
          secret: SECRET,
          allowPrivate: true,
          pollMs: 50,
          retryBaseMs: 20,
          ...webhooks,
        }),
      });

    /** The requests at a path whose event is about this message (its id in data.message). */
    const about = (path: string, messageId: string, type?: string) =>
      receiver
        .at(path)
        .filter((r) => r.payload?.data.message?.id === messageId && (type === undefined || r.payload.type === type));

    const deliveryRows = async (eventId: string) => {
      const { db } = await backend.database();
      return rowsOf<{ endpoint: string; attempts: number; delivered_at: unknown; dead_at: unknown; last_status: string | null }>(
        await db.execute(
          sql`select endpoint, attempts, delivered_at, dead_at, last_status from webhook_deliveries where event_id = ${eventId}`,
        ),
      );
    };

    beforeAll(async () => {
      backend = await createBackend(backendName);
      receiver = await startWebhookReceiver([SECRET]);
      receiver.respondWith((request, earlier) => {
        if (request.path === '/gone') return 410;
        // The first attempt of each event fails.
        if (request.path === '/flaky') {
          return earlier.some((r) => r.headers['webhook-id'] === request.headers['webhook-id']) ? 200 : 500;
        }
        return 200;
      });
    });
    afterAll(async () => {
      await backend?.dispose();
      await receiver?.close();
    });

    it('POSTs every event type signed (both secrets while rotating), with the GraphQL-shaped objects', async () => {
      const app = await startApp(['/all'], { previousSecret: PREVIOUS });
      const seed = seeder(app);
      const { alice, bob, carol, dave, room } = await seed.roomOfThree();
      const eve = await seed.user('eve');
      const hello = await seed.send(alice, room, 'hello');
      const reply = await seed.send(bob, room, 'in thread', { threadRootId: hello.id });
      const mention = await seed.send(alice, room, 'hi bob', { mentions: [bob.id] });
      await gqlOk(app, EDIT, { id: hello.id, body: 'hello, edited' }, alice.token);
      await gqlOk(app, REPORT, { m: mention.id }, bob.token);
      await gqlOk(app, DELETE, { id: mention.id }, alice.token);
      await seed.leave(carol, room);
      await seed.join(dave, room);
      await gqlOk(app, KICK, { r: room.id, u: dave.id }, alice.token);
      await seed.join(eve, room);
      await gqlOk(app, BAN, { r: room.id, u: eve.id }, alice.token);

      const types = [
        'message.sent',
        'message.edited',
        'message.deleted',
        'member.joined',
        'member.left',
        'member.kicked',
        'member.banned',
        'report.filed',
        'mention',
        'thread.reply',
      ];
      const inRoom = () => receiver.at('/all').filter((r) => r.payload?.data.roomId === room.id);
      await eventually(
        async () => types.every((type) => inRoom().some((r) => r.payload!.type === type)),
        'every event type at the receiver',
      );
      // Everything arrived verified (payload set) and carries two signatures, each verifying on its own.
      const all = receiver.at('/all');
      expect(all.every((r) => r.payload !== null)).toBe(true);
      for (const request of all) {
        expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
        expect(request.headers['content-type']).toBe('application/json');
      }
      // A receiver that still has only the previous secret accepts them too.
      for (const request of all.slice(0, 3)) {
        expect(() => new Webhook(PREVIOUS).verify(request.body, request.headers as Record<string, string>)).not.toThrow();
      }

      const sent = inRoom().find((r) => r.payload!.type === 'message.sent' && r.payload!.data.seq === 1)!.payload!;
      expect(sent.data.message).toMatchObject({ id: hello.id, seq: 1, author: { id: alice.id, username: alice.username } });
      const threadReply = inRoom().find((r) => r.payload!.type === 'thread.reply')!.payload!;
      expect(threadReply.data.message).toMatchObject({ id: reply.id, threadRootId: hello.id, author: { id: bob.id } });
      const mentioned = inRoom().find((r) => r.payload!.type === 'mention')!.payload!;
      expect(mentioned.data.mentioned).toEqual({ users: [{ id: bob.id, username: bob.username }], room: false });
      const edited = inRoom().find((r) => r.payload!.type === 'message.edited')!.payload!;
      expect(edited.data.message).toMatchObject({ id: hello.id, body: 'hello, edited' });
      const report = inRoom().find((r) => r.payload!.type === 'report.filed')!.payload!;
      expect(report.data.report).toMatchObject({ messageId: mention.id, reporter: { id: bob.id }, reason: 'SPAM' });
      const kicked = inRoom().find((r) => r.payload!.type === 'member.kicked')!.payload!;
      expect(kicked.data.member).toMatchObject({ user: { id: dave.id }, by: { id: alice.id } });
      const banned = inRoom().find((r) => r.payload!.type === 'member.banned')!.payload!;
      expect(banned.data.member).toMatchObject({ user: { id: eve.id }, by: { id: alice.id }, reason: 'spam' });
      expect(inRoom().find((r) => r.payload!.type === 'member.left')!.payload!.data.member).toMatchObject({
        user: { id: carol.id },
      });
      // One webhook-id per event: distinct across the events of the room.
      const ids = inRoom().map((r) => r.headers['webhook-id']);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('retries a 500 with the same webhook-id, and a 200 settles the delivery', async () => {
      const app = await startApp(['/flaky']);
      const seed = seeder(app);
      const { alice, room } = await seed.roomWithTwoMembers();
      const message = await seed.send(alice, room, 'try again');
      const [first, second] = await eventually(async () => {
        const got = about('/flaky', message.id, 'message.sent');
        return got.length >= 2 ? got : null;
      }, 'the retry');
      expect(first!.headers['webhook-id']).toBe(second!.headers['webhook-id']);
      expect(second!.payload).toEqual(first!.payload);
      const [row] = await eventually(async () => {
        const rows = await deliveryRows(String(first!.headers['webhook-id']));
        return rows[0]?.delivered_at ? rows : null;
      }, 'the delivery settled');
      expect(row).toMatchObject({ attempts: 2, last_status: '200', dead_at: null });
    });

    it('settles a burst of passes with 2xx and 500 side by side: each delivered once per endpoint, the failed ones retried', async () => {
      const app = await startApp(['/burst', '/flaky']);
      const seed = seeder(app);
      const { alice, room } = await seed.roomWithTwoMembers();
      // 60 events to two endpoints: passes of many rows, each pass holding successes and first-attempt 500s.
      const sent = await seed.sendMany(alice, room, 60);
      const { db } = await backend.database();
      const rows = await eventually(async () => {
        const got = rowsOf<{ endpoint: string; attempts: number; delivered_at: unknown; last_status: string | null }>(
          await db.execute(sql`
            select d.endpoint, d.attempts, d.delivered_at, d.last_status from webhook_deliveries d
            join outbox_events e on e.id = d.event_id
            where e.room_id = ${room.id} and e.type = 'message.sent'`),
        );
        return got.length === 120 && got.every((row) => row.delivered_at !== null) ? got : null;
      }, 'every delivery settled');
      for (const row of rows) {
        expect(row).toMatchObject(
          row.endpoint.endsWith('/burst') ? { attempts: 1, last_status: '200' } : { attempts: 2, last_status: '200' },
        );
      }
      for (const message of sent) {
        expect(about('/burst', message.id, 'message.sent')).toHaveLength(1);
        expect(about('/flaky', message.id, 'message.sent')).toHaveLength(2);
      }
    });

    it('stops delivering to an endpoint that answered 410, and goes on with the others', async () => {
      const app = await startApp(['/gone', '/beside-gone']);
      const seed = seeder(app);
      // The room's member.joined events reach /gone first: it answers 410 to the pass that brings them.
      const { alice, room } = await seed.roomWithTwoMembers();
      const [gone] = await eventually(async () => (receiver.at('/gone').length > 0 ? receiver.at('/gone') : null), 'a 410');
      // Messages committed after that are claimed by later passes, which start once that one settled.
      const later = [await seed.send(alice, room, 'one'), await seed.send(alice, room, 'two')];
      for (const message of later) {
        await eventually(async () => about('/beside-gone', message.id, 'message.sent').length > 0, `"${message.body}" delivered`);
        expect(about('/gone', message.id)).toEqual([]);
      }
      // The pass that took the 410 settled before those: its delivery is dead-lettered with the status.
      // The event went to both endpoints: its row for /gone.
      const [row] = (await deliveryRows(String(gone!.headers['webhook-id']))).filter((r) => r.endpoint.endsWith('/gone'));
      expect(row).toMatchObject({ last_status: '410' });
      expect(row!.dead_at).not.toBeNull();
    });

    it('refuses a destination on a private address unless WEBHOOK_ALLOW_PRIVATE, and counts it in /metrics', async () => {
      const app = await startApp(['/private'], { allowPrivate: false, retryBaseMs: 60_000 });
      const seed = seeder(app);
      const { alice, room } = await seed.roomWithTwoMembers();
      const message = await seed.send(alice, room, 'not to loopback');
      const { db } = await backend.database();
      const status = await eventually(async () => {
        const [row] = rowsOf<{ last_status: string | null }>(
          await db.execute(sql`
            select d.last_status from webhook_deliveries d join outbox_events e on e.id = d.event_id
            where e.message_id = ${message.id} and e.type = 'message.sent'`),
        );
        return row?.last_status;
      }, 'the attempt');
      expect(status).toBe('refused: 127.0.0.1 is a private address');
      expect(receiver.at('/private')).toHaveLength(0);
      // Counted as a failed attempt; the delivery waits for its retry, so the backlog shows it (the 410 above left a dead letter).
      const samples = await scrape(app);
      expect(value(samples, 'chat_webhook_attempts_total{outcome="failed"}')).toBeGreaterThanOrEqual(1);
      expect(value(samples, 'chat_webhook_attempts_total{outcome="delivered"}')).toBe(0);
      expect(value(samples, 'chat_webhook_deliveries_pending')).toBeGreaterThanOrEqual(1);
      expect(samples.has('chat_outbox_oldest_pending_seconds')).toBe(true);
      expect(value(samples, 'chat_webhook_dead_letters')).toBeGreaterThanOrEqual(1);
    });

    it('records nothing for a refused send', async () => {
      const app = await startApp(['/refused']);
      const seed = seeder(app);
      const { alice, dave, room } = await seed.roomOfThree();
      const refused = await gql(
        app,
        'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
        { input: { roomId: room.id, body: 'let me in', clientId: 'dave-1' } },
        dave.token,
      );
      expect(codes(refused)).toEqual(['FORBIDDEN']);
      const after = await seed.send(alice, room, 'after the refusal');
      await eventually(async () => about('/refused', after.id, 'message.sent').length > 0, 'the later message');
      const messagesSent = receiver.at('/refused').filter((r) => r.payload?.type === 'message.sent');
      expect(messagesSent.map((r: ReceivedWebhook) => r.payload!.data.message.id)).toEqual([after.id]);
      expect(after.seq).toBe(1);
    });

    it('delivers nothing for a send rolled back after its event was written (a fault injected in its transaction)', async () => {
      const app = await startApp(['/rolled-back']);
      const seed = seeder(app);
      const { alice, room } = await seed.roomWithTwoMembers();
      const { db } = await backend.database();
      // The fault: writing the delivery row of a message with this body fails, after the event row was written.
      await db.execute(sql`
        create or replace function test_fail_delivery() returns trigger language plpgsql as $$
        begin
          if exists (select 1 from outbox_events e join messages m on m.id = e.message_id
                     where e.id = new.event_id and m.body = 'roll me back') then
            raise exception 'injected fault';
          end if;
          return new;
        end $$`);
      await db.execute(
        sql`create trigger test_fail_delivery before insert on webhook_deliveries for each row execute function test_fail_delivery()`,
      );
      try {
        const failed = await gql(
          app,
          'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
          { input: { roomId: room.id, body: 'roll me back' } },
          alice.token,
        );
        expect(codes(failed)).toEqual(['INTERNAL_SERVER_ERROR']);
      } finally {
        await db.execute(sql`drop trigger test_fail_delivery on webhook_deliveries`);
        await db.execute(sql`drop function test_fail_delivery()`);
      }
      const after = await seed.send(alice, room, 'after the rollback');
      await eventually(async () => about('/rolled-back', after.id, 'message.sent').length > 0, 'the later message');
      const sent = receiver.at('/rolled-back').filter((r) => r.payload?.type.startsWith('message.'));
      expect(sent.map((r) => r.payload!.data.message.body)).toEqual(['after the rollback']);
      expect(after.seq).toBe(1); // the rolled-back send left no message and took no seq
      const events = rowsOf<{ n: number | string }>(
        await db.execute(sql`select count(*) as n from outbox_events where room_id = ${room.id} and type = 'message.sent'`),
      );
      expect(Number(events[0]!.n)).toBe(1);
    });

    it('delivers from another instance what a dead instance committed and claimed', async () => {
      // A records and never delivers (its worker off), as an instance that dies right after its commit.
      const a: App = await startApp(['/handover'], { worker: false });
      const seed = seeder(a);
      const { alice, room } = await seed.roomWithTwoMembers();
      const message = await seed.send(alice, room, 'outlives its instance');
      // A's claim, as its worker would have made it, with a short lease; then A dies before settling it.
      const { db } = await backend.database();
      const [claimed] = rowsOf<{ event_id: string }>(
        await db.execute(sql`
          update webhook_deliveries d set locked_until = now() + interval '500 milliseconds', attempts = 1
          from outbox_events e
          where e.id = d.event_id and e.message_id = ${message.id} and e.type = 'message.sent'
          returning d.event_id`),
      );
      await a.kill();
      await startApp(['/handover']);
      const [delivered] = await eventually(async () => {
        const got = about('/handover', message.id, 'message.sent');
        return got.length > 0 ? got : null;
      }, 'the delivery by the other instance');
      expect(delivered!.headers['webhook-id']).toBe(claimed!.event_id);
      expect(delivered!.payload!.data.message).toMatchObject({ id: message.id, body: 'outlives its instance' });
      const [row] = await eventually(async () => {
        const rows = await deliveryRows(claimed!.event_id);
        return rows[0]?.delivered_at ? rows : null;
      }, 'the delivery settled');
      // A's lapsed claim counted one attempt; the other instance's made the second.
      expect(row!.attempts).toBe(2);
    });

    it('sweeps events delivered everywhere past their keeping time, keeping dead letters and pending deliveries', async () => {
      const { db } = await backend.database();
      const count = async (condition: ReturnType<typeof sql>) =>
        Number(
          rowsOf<{ n: string | number }>(await db.execute(sql`select count(*) as n from outbox_events e where ${condition}`))[0]!
            .n,
        );
      const undelivered = sql`exists (select 1 from webhook_deliveries d where d.event_id = e.id and d.delivered_at is null)`;
      const kept = await count(undelivered);
      expect(await count(sql`not ${undelivered}`)).toBeGreaterThan(0);
      expect(kept).toBeGreaterThan(0); // the 410's dead letter, the private destination's pending delivery
      await new OutboxStore(db).sweepDelivered(0, 100_000);
      expect(await count(sql`not ${undelivered}`)).toBe(0);
      expect(await count(undelivered)).toBe(kept);
    });
  });
}

// A real process killed with SIGKILL while its POST is out: only the services
// backend shares its database with another process.
describe.runIf(backendNames().includes('services'))('Webhooks of an instance killed mid-delivery [services]', () => {
  let backend: Backend;
  let receiver: WebhookReceiver;
  let killed: Started | null = null;
  const cwd = mkdtempSync(join(tmpdir(), 'chat-webhooks-'));
  beforeAll(async () => {
    backend = await createBackend('services');
    receiver = await startWebhookReceiver([SECRET]);
  });
  afterAll(async () => {
    killed?.child.kill('SIGKILL');
    await backend?.dispose();
    await receiver?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('another instance delivers, with the same webhook-id, what a SIGKILLed process committed and was delivering', async () => {
    const path = '/killed';
    const BODY = 'committed, then its instance was killed';
    const webhooks = { urls: [receiver.url(path)], secret: SECRET, allowPrivate: true, pollMs: 50, retryBaseMs: 20 };
    // Users and room through an instance that records events but delivers none.
    const recorder = await backend.startApp({ webhooks: testWebhooks({ ...webhooks, worker: false }) });
    const { alice, room } = await seeder(recorder).roomWithTwoMembers();
    // The instance to kill: `npm start`'s process on the same Postgres and Redis, its claims lasting 3 × 1 s.
    const { database, redis, redisPrefix } = backend.config;
    const doomed = await startProcess(process.execPath, sourceStart, cwd, {
      DATABASE_URL: (database as { url: string }).url,
      REDIS_URL: redis!.url,
      REDIS_PREFIX: redisPrefix,
      JWT_SECRET: new TextDecoder().decode(TEST_SECRET),
      WEBHOOK_URLS: receiver.url(path),
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'warn',
    });
    killed = doomed;
    // The first POST of the message's event is never answered: the process is killed while it waits.
    receiver.respondWith((request, earlier) => {
      const first = !earlier.some((r) => r.headers['webhook-id'] === request.headers['webhook-id']);
      if (request.payload?.data.message?.body !== BODY || !first) return 200;
      doomed.child.kill('SIGKILL');
      return 'hold';
    });
    // Its answer may never come (the kill can beat it); the record says what committed.
    void gql(
      doomed.app,
      'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }',
      { i: { roomId: room.id, body: BODY } },
      alice.token,
    ).catch(() => null);
    expect(await doomed.exited).toBeNull(); // killed by its signal, no exit code
    const [held] = about(path, BODY);
    expect(held, 'the killed process had POSTed the event').toBeDefined();
    const eventId = String(held!.headers['webhook-id']);
    const stored = await gqlOk(
      recorder,
      'query($r: ID!) { messages(roomId: $r, last: 5) { edges { node { id body } } } }',
      { r: room.id },
      alice.token,
    );
    expect(stored.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toContain(BODY);
    const claim = await deliveryRows(eventId);
    expect(claim).toMatchObject([{ attempts: 1, delivered_at: null }]);

    // Another instance, with its worker, takes the delivery over once the dead one's lease lapses.
    await backend.startApp({ webhooks: testWebhooks(webhooks) });
    const both = await eventually(
      async () => {
        const got = about(path, BODY);
        return got.length >= 2 ? got : null;
      },
      'the delivery by the other instance',
      30_000,
    );
    expect(both.map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId]);
    expect(both.every((r) => r.payload?.type === 'message.sent')).toBe(true); // both signed and verified
    const [settled] = await eventually(async () => {
      const rows = await deliveryRows(eventId);
      return rows[0]?.delivered_at ? rows : null;
    }, 'the delivery settled');
    expect(settled!.attempts).toBe(2);
    expect(about(path, BODY)).toHaveLength(2); // and no third
  });

  /** The requests at a path carrying the message with this body. */
  const about = (path: string, body: string) => receiver.at(path).filter((r) => r.payload?.data.message?.body === body);

  const deliveryRows = async (eventId: string) => {
    const { db } = await backend.database();
    return rowsOf<{ attempts: number; delivered_at: unknown }>(
      await db.execute(sql`select attempts, delivered_at from webhook_deliveries where event_id = ${eventId}`),
    );
  };
});

import { randomBytes } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  closeSocket,
  codes,
  connected,
  eventually,
  gql,
  gqlOk,
  sleep,
  Subscription,
  trackedClients,
  wsUrl,
  type GqlError,
  type GqlResult,
} from '../support/client.js';
import { TEST_VAPID, testConfig } from '../support/config.js';
import { messageProbe } from '../support/probes.js';
import { hasRedisServer, PrivateRedis } from '../support/redis-server.js';
import { PASSWORD, seeder, uniqueName, type Seed, type TestRoom, type TestUser } from '../support/seed.js';
import { createApp, MUTATION_LIMITS, type App, type Config } from '../support/server.js';
import { forEachBackend, type Suite } from '../support/suite.js';

const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }';
const LOGIN = 'mutation($input: CredentialsInput!) { login(input: $input) { token } }';
const REGISTER = 'mutation($input: CredentialsInput!) { register(input: $input) { token user { id } } }';
const MESSAGE_ADDED = 'subscription($r: ID!) { messageAdded(roomId: $r) { id seq body } }';
const HOUR = 3600;

/** POST /graphql with headers of the test's choosing (X-Forwarded-For). */
async function post(app: App, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlResult;
}

/** The one RATE_LIMITED error of a result, checked for a whole retryAfter of at least 1 s and at most the window. */
function rateLimitedError(result: GqlResult, windowSeconds: number): GqlError {
  expect(codes(result)).toEqual(['RATE_LIMITED']);
  const error = result.errors![0]!;
  const retryAfter = error.extensions?.retryAfter;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  return error;
}

const credentials = (username: string, password = PASSWORD) => ({ input: { username, password } });

/** A document of `count` aliased sends m1..mN, each its own body. */
function aliasedSends(count: number, roomId: string) {
  const fields = Array.from(
    { length: count },
    (_, i) => `m${i + 1}: sendMessage(input: { roomId: $r, body: "aliased ${i + 1}" }) { seq }`,
  );
  return { query: `mutation($r: ID!) { ${fields.join(' ')} }`, variables: { r: roomId } };
}

async function storedBodies(app: App, user: TestUser, room: TestRoom): Promise<string[]> {
  const data = await gqlOk(
    app,
    'query($r: ID!) { messages(roomId: $r, last: 200) { edges { node { body } } } }',
    { r: room.id },
    user.token,
  );
  return data.messages.edges.map((e: { node: { body: string } }) => e.node.body);
}

/**
 * An instance with limits of its own. Its Redis keys (and channels) get a
 * prefix of their own too, so what it counts per IP (every test runs from
 * 127.0.0.1) starts from zero in each test; `tag` gives two instances the
 * same one.
 */
function limitedApp(s: Suite, overrides: Partial<Config>, tag = randomBytes(4).toString('hex')): Promise<App> {
  const base = s.backend.config;
  return s.backend.startApp({
    redisPrefix: `${base.redisPrefix}${tag}:`,
    ...overrides,
    rateLimits: { ...base.rateLimits, ...overrides.rateLimits },
  });
}
const rate = (points: number, seconds: number) => ({ points, seconds });

/**
 * How to call one mutation several times over, each call a real one (a
 * fresh room to join, another user to invite): who calls, and the field of
 * call `i` (1-based), ready to go under an alias. Fixtures come from the
 * suite's instance, which has no such limits.
 */
type LimitedCall = (seed: Seed) => Promise<{ caller: TestUser; call: (i: number) => string }>;

const EMOJI = ['👍', '🎉', '❤️', '😂'];

/** One case per limited Mutation field: the test over MUTATION_LIMITS fails for a field without one. */
function limitedCalls(app: App, count: number): Record<string, LimitedCall> {
  const times = <T>(make: () => Promise<T>) => Promise.all(Array.from({ length: count }, make));
  const ownRoom = async (seed: Seed) => {
    const caller = await seed.user('limited');
    return { caller, room: await seed.room(caller) };
  };
  /** The caller owns a room with `count` other members. */
  const ownRoomWith = async (seed: Seed) => {
    const { caller, room } = await ownRoom(seed);
    const members = await times(() => seed.user('member'));
    for (const member of members) await seed.join(member, room);
    return { caller, room, members };
  };
  return {
    refreshToken: async (seed) => ({ caller: await seed.user('limited'), call: () => 'refreshToken { token }' }),
    createRoom: async (seed) => ({
      caller: await seed.user('limited'),
      call: (i) => `createRoom(input: { name: "limited ${i}" }) { id }`,
    }),
    joinRoom: async (seed) => {
      const owner = await seed.user('owner');
      const rooms = await times(() => seed.room(owner));
      return { caller: await seed.user('limited'), call: (i) => `joinRoom(roomId: "${rooms[i - 1]!.id}") { id }` };
    },
    leaveRoom: async (seed) => {
      const caller = await seed.user('limited');
      const rooms = await times(() => seed.room(caller));
      return { caller, call: (i) => `leaveRoom(roomId: "${rooms[i - 1]!.id}")` };
    },
    inviteToRoom: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const invitees = await times(() => seed.user('invitee'));
      return { caller, call: (i) => `inviteToRoom(roomId: "${room.id}", userId: "${invitees[i - 1]!.id}") { id }` };
    },
    openDirectRoom: async (seed) => {
      const others = await times(() => seed.user('other'));
      return { caller: await seed.user('limited'), call: (i) => `openDirectRoom(userId: "${others[i - 1]!.id}") { id }` };
    },
    sendMessage: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      return { caller, call: (i) => `sendMessage(input: { roomId: "${room.id}", body: "limited ${i}" }) { id }` };
    },
    createUpload: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      return {
        caller,
        call: (i) =>
          `createUpload(input: { roomId: "${room.id}", filename: "f${i}.pdf", contentType: "application/pdf", size: 10 }) { id }`,
      };
    },
    editMessage: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const message = await seed.send(caller, room, 'to edit');
      return { caller, call: (i) => `editMessage(input: { id: "${message.id}", body: "edit ${i}" }) { id }` };
    },
    deleteMessage: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const messages = await seed.sendMany(caller, room, count);
      return { caller, call: (i) => `deleteMessage(id: "${messages[i - 1]!.id}") { id }` };
    },
    addReaction: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const message = await seed.send(caller, room, 'to react to');
      return { caller, call: (i) => `addReaction(messageId: "${message.id}", emoji: "${EMOJI[i - 1]}") { id }` };
    },
    removeReaction: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const message = await seed.send(caller, room, 'to unreact to');
      for (const emoji of EMOJI.slice(0, count)) {
        await gqlOk(
          app,
          'mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id } }',
          { m: message.id, e: emoji },
          caller.token,
        );
      }
      return { caller, call: (i) => `removeReaction(messageId: "${message.id}", emoji: "${EMOJI[i - 1]}") { id }` };
    },
    setRoomNotifications: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      return { caller, call: () => `setRoomNotifications(roomId: "${room.id}", level: ALL) { id }` };
    },
    registerPushSubscription: async (seed) => {
      const caller = await seed.user('caller');
      const keys = `p256dh: "${TEST_VAPID.publicKey}", auth: "${Buffer.alloc(16, 1).toString('base64url')}"`;
      return { caller, call: (i) => `registerPushSubscription(input: { endpoint: "https://push.example.com/${i}", ${keys} })` };
    },
    unregisterPushSubscription: async (seed) => {
      const caller = await seed.user('caller');
      return { caller, call: (i) => `unregisterPushSubscription(endpoint: "https://push.example.com/${i}")` };
    },
    markRead: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const author = await seed.user('author');
      await seed.join(author, room);
      await seed.sendMany(author, room, count);
      return { caller, call: (i) => `markRead(roomId: "${room.id}", seq: ${i}) { id }` };
    },
    markThreadRead: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const root = await seed.send(caller, room, 'a root');
      return { caller, call: (i) => `markThreadRead(threadRootId: "${root.id}", seq: ${i}) { replyCount }` };
    },
    subscribeThread: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const roots = await seed.sendMany(caller, room, count);
      return { caller, call: (i) => `subscribeThread(threadRootId: "${roots[i - 1]!.id}") { viewerSubscribed }` };
    },
    unsubscribeThread: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const roots = await seed.sendMany(caller, room, count);
      return { caller, call: (i) => `unsubscribeThread(threadRootId: "${roots[i - 1]!.id}") { viewerSubscribed }` };
    },
    pinMessage: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const said = await seed.sendMany(caller, room, count);
      return { caller, call: (i) => `pinMessage(messageId: "${said[i - 1]!.id}") { pinnedAt }` };
    },
    unpinMessage: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      const said = await seed.sendMany(caller, room, count);
      return { caller, call: (i) => `unpinMessage(messageId: "${said[i - 1]!.id}") { pinnedAt }` };
    },
    setTyping: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      return { caller, call: () => `setTyping(roomId: "${room.id}", typing: true)` };
    },
    setMemberRole: async (seed) => {
      const { caller, room, members } = await ownRoomWith(seed);
      return {
        caller,
        call: (i) => `setMemberRole(roomId: "${room.id}", userId: "${members[i - 1]!.id}", role: MODERATOR) { role }`,
      };
    },
    kickMember: async (seed) => {
      const { caller, room, members } = await ownRoomWith(seed);
      return { caller, call: (i) => `kickMember(roomId: "${room.id}", userId: "${members[i - 1]!.id}")` };
    },
    banMember: async (seed) => {
      const { caller, room, members } = await ownRoomWith(seed);
      return { caller, call: (i) => `banMember(roomId: "${room.id}", userId: "${members[i - 1]!.id}") { expiresAt }` };
    },
    unbanMember: async (seed) => {
      const { caller, room, members } = await ownRoomWith(seed);
      return { caller, call: (i) => `unbanMember(roomId: "${room.id}", userId: "${members[i - 1]!.id}")` };
    },
    muteMember: async (seed) => {
      const { caller, room, members } = await ownRoomWith(seed);
      return {
        caller,
        call: (i) => `muteMember(roomId: "${room.id}", userId: "${members[i - 1]!.id}", durationSeconds: 60) { mutedUntil }`,
      };
    },
    updateRoom: async (seed) => {
      const { caller, room } = await ownRoom(seed);
      return { caller, call: (i) => `updateRoom(input: { roomId: "${room.id}", slowModeSeconds: ${i} }) { id }` };
    },
    reportMessage: async (seed) => {
      const { room, members } = await ownRoomWith(seed);
      const said = await seed.sendMany(members[0]!, room, count);
      const caller = members[1]!;
      return { caller, call: (i) => `reportMessage(messageId: "${said[i - 1]!.id}", reason: SPAM) { id }` };
    },
    resolveReport: async (seed) => {
      const { caller, room, members } = await ownRoomWith(seed);
      const said = await seed.sendMany(caller, room, 1);
      const reports = await Promise.all(
        members.map((member) =>
          gqlOk(app, 'mutation($m: ID!) { reportMessage(messageId: $m, reason: SPAM) { id } }', { m: said[0]!.id }, member.token),
        ),
      );
      return { caller, call: (i) => `resolveReport(reportId: "${reports[i - 1]!.reportMessage.id}", status: DISMISSED) { id }` };
    },
    blockUser: async (seed) => {
      const others = await times(() => seed.user('other'));
      return { caller: await seed.user('limited'), call: (i) => `blockUser(userId: "${others[i - 1]!.id}")` };
    },
    unblockUser: async (seed) => {
      const others = await times(() => seed.user('other'));
      return { caller: await seed.user('limited'), call: (i) => `unblockUser(userId: "${others[i - 1]!.id}")` };
    },
  };
}

forEachBackend('Rate limits', (s) => {
  const tracked = trackedClients();

  describe('Mutation.sendMessage', () => {
    it('counts each aliased call: of six in one document over a limit of 5, the sixth is RATE_LIMITED and five are stored', async () => {
      const app = await limitedApp(s, { rateLimits: { ...s.backend.config.rateLimits, send: rate(5, HOUR) } });
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const { query, variables } = aliasedSends(6, room.id);
      const result = await gql(app, query, variables, alice.token);
      rateLimitedError(result, HOUR);
      expect(result.errors![0]!.path).toEqual(['m6']);
      expect(await storedBodies(app, alice, room)).toEqual([1, 2, 3, 4, 5].map((i) => `aliased ${i}`));
      // The next one is refused too, and stores nothing either.
      rateLimitedError(await gql(app, SEND, { i: { roomId: room.id, body: 'later' } }, alice.token), HOUR);
      expect(await storedBodies(app, alice, room)).toHaveLength(5);
    });

    it('limits each user on their own: another member still sends', async () => {
      const app = await limitedApp(s, { rateLimits: { ...s.backend.config.rateLimits, send: rate(2, HOUR) } });
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const { query, variables } = aliasedSends(3, room.id);
      rateLimitedError(await gql(app, query, variables, alice.token), HOUR);
      await gqlOk(app, SEND, { i: { roomId: room.id, body: 'from bob' } }, bob.token);
    });

    it('accepts sends again once retryAfter has passed', async () => {
      const app = await limitedApp(s, { rateLimits: { ...s.backend.config.rateLimits, send: rate(2, 2) } });
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const { query, variables } = aliasedSends(3, room.id);
      const error = rateLimitedError(await gql(app, query, variables, alice.token), 2);
      await sleep((error.extensions!.retryAfter as number) * 1000); // the window itself is under test
      await gqlOk(app, SEND, { i: { roomId: room.id, body: 'after the window' } }, alice.token);
    });

    if (s.name === 'services') {
      it('holds across two instances on one Redis: the sends through both count together', async () => {
        const limits = { rateLimits: { ...s.backend.config.rateLimits, send: rate(5, HOUR) } };
        const tag = randomBytes(4).toString('hex');
        const [a, b] = await Promise.all([limitedApp(s, limits, tag), limitedApp(s, limits, tag)]);
        const alice = await s.seed.user('alice');
        const room = await s.seed.room(alice);
        await gqlOk(a, aliasedSends(3, room.id).query, { r: room.id }, alice.token);
        await gqlOk(b, aliasedSends(2, room.id).query, { r: room.id }, alice.token);
        rateLimitedError(await gql(b, SEND, { i: { roomId: room.id, body: 'sixth' } }, alice.token), HOUR);
        rateLimitedError(await gql(a, SEND, { i: { roomId: room.id, body: 'seventh' } }, alice.token), HOUR);
        expect(await storedBodies(a, alice, room)).toHaveLength(5);
      });
    }
  });

  describe('every mutation that makes events or rows', () => {
    it('is rate-limited per user, aliased calls counted: over a limit of 2, the third of three aliased calls is RATE_LIMITED', async () => {
      const two = rate(2, HOUR);
      const app = await limitedApp(s, {
        rateLimits: { ...s.backend.config.rateLimits, send: two },
        mutationRateLimits: {
          ...{ edit: two, react: two, typing: two, read: two, rooms: two, refresh: two },
          ...{ moderation: two, reports: two, blocks: two },
        },
      });
      const cases = limitedCalls(s.a, 3);
      const limited = Object.entries(MUTATION_LIMITS).filter(([, limit]) => limit !== 'none');
      expect(limited.length).toBeGreaterThan(0);
      for (const [field] of limited) {
        const limitedCall = cases[field];
        expect(limitedCall, `a case for Mutation.${field}`).toBeDefined();
        // A caller of its own per field: the fields that share a limit do not use up each other's points here.
        const { caller, call } = await limitedCall!(s.seed);
        const document = `mutation { ${[1, 2, 3].map((i) => `a${i}: ${call(i)}`).join(' ')} }`;
        const result = await gql(app, document, {}, caller.token);
        expect(codes(result), field).toEqual(['RATE_LIMITED']);
        // Mutations run one after another and stop at the first error: a1 and a2 ran, a3 was refused.
        expect(result.errors![0]!.path, field).toEqual(['a3']);
        rateLimitedError(result, HOUR);
      }
    });
  });

  describe('Mutation.login', () => {
    it('refuses a username with RATE_LIMITED, even with the right password, once its failed logins are spent; other usernames sign in', async () => {
      const app = await limitedApp(s, { rateLimits: { ...s.backend.config.rateLimits, loginUser: rate(3, HOUR) } });
      const [alice, bob] = await s.seed.users('alice', 'bob');
      for (let i = 0; i < 3; i++)
        expect(codes(await gql(app, LOGIN, credentials(alice.username, 'wrong password')))).toEqual(['UNAUTHENTICATED']);
      rateLimitedError(await gql(app, LOGIN, credentials(alice.username)), HOUR);
      rateLimitedError(await gql(app, LOGIN, credentials(alice.username.toUpperCase())), HOUR); // usernames are one regardless of case
      await gqlOk(app, LOGIN, credentials(bob.username));
    });

    it('does not count logins that succeed', async () => {
      const app = await limitedApp(s, {
        rateLimits: { ...s.backend.config.rateLimits, loginUser: rate(2, HOUR), loginIp: rate(2, HOUR) },
      });
      const alice = await s.seed.user('alice');
      for (let i = 0; i < 5; i++) await gqlOk(app, LOGIN, credentials(alice.username));
    });

    it('successful logins are limited per username: past the limit even the right password is RATE_LIMITED; failures do not count, other usernames sign in', async () => {
      const app = await limitedApp(s, { loginSuccessRate: rate(3, HOUR) });
      const [alice, bob] = await s.seed.users('alice', 'bob');
      for (let i = 0; i < 2; i++)
        expect(codes(await gql(app, LOGIN, credentials(alice.username, 'wrong password')))).toEqual(['UNAUTHENTICATED']);
      for (let i = 0; i < 3; i++) await gqlOk(app, LOGIN, credentials(alice.username));
      const refused = rateLimitedError(await gql(app, LOGIN, credentials(alice.username)), HOUR);
      expect(refused.message).toMatch(/Too many logins for this username/);
      rateLimitedError(await gql(app, LOGIN, credentials(alice.username.toUpperCase())), HOUR); // usernames are one regardless of case
      await gqlOk(app, LOGIN, credentials(bob.username));
    });

    it('refuses every login from an IP whose failed logins are spent, whatever the username', async () => {
      const app = await limitedApp(s, { rateLimits: { ...s.backend.config.rateLimits, loginIp: rate(3, HOUR) } });
      const alice = await s.seed.user('alice');
      for (let i = 0; i < 3; i++)
        expect(codes(await gql(app, LOGIN, credentials(uniqueName('nobody'), 'wrong password')))).toEqual(['UNAUTHENTICATED']);
      rateLimitedError(await gql(app, LOGIN, credentials(alice.username)), HOUR);
    });
  });

  describe('Query.searchMessages (RATE_LIMIT_SEARCH)', () => {
    it('counts every search of a user, aliased ones included; past the limit RATE_LIMITED, other users still search', async () => {
      const app = await limitedApp(s, { searchRate: rate(4, HOUR) });
      const [alice, bob] = await s.seed.users('alice', 'bob');
      const aliased = `query { ${[1, 2, 3, 4, 5].map((i) => `s${i}: searchMessages(query: "anything") { id }`).join(' ')} }`;
      const result = await gql(app, aliased, {}, alice.token);
      // Four searched (nothing matches), the fifth was refused.
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.path).toEqual(['s5']);
      rateLimitedError({ errors: result.errors }, HOUR);
      rateLimitedError(await gql(app, 'query { searchMessages(query: "later") { id } }', {}, alice.token), HOUR);
      await gqlOk(app, 'query { searchMessages(query: "bob") { id } }', {}, bob.token);
    });
  });

  describe('Mutation.register', () => {
    it('refuses a client IP past its registrations with RATE_LIMITED, creating no account', async () => {
      const app = await limitedApp(s, { rateLimits: { ...s.backend.config.rateLimits, registerIp: rate(3, HOUR) } });
      for (let i = 0; i < 3; i++) await gqlOk(app, REGISTER, credentials(uniqueName('reg')));
      const refused = uniqueName('reg');
      rateLimitedError(await gql(app, REGISTER, credentials(refused)), HOUR);
      expect(codes(await gql(s.a, LOGIN, credentials(refused)))).toEqual(['UNAUTHENTICATED']);
    });

    it('counts a register over WebSocket against the IP of its upgrade', async () => {
      const app = await limitedApp(s, { rateLimits: { ...s.backend.config.rateLimits, registerIp: rate(1, HOUR) } });
      const alice = await s.seed.user('alice');
      await gqlOk(app, REGISTER, credentials(uniqueName('reg')));
      const overSocket = new Subscription(tracked(app, alice.token), REGISTER, credentials(uniqueName('reg')));
      await overSocket.settled();
      expect(overSocket.results.flatMap((r) => (r.errors ?? []).map((e) => e.extensions?.code))).toEqual(['RATE_LIMITED']);
    });
  });

  describe('client IP (TRUST_PROXY)', () => {
    it('ignores X-Forwarded-For with TRUST_PROXY=0: every request counts as the socket peer', async () => {
      const app = await limitedApp(s, {
        trustProxy: 0,
        rateLimits: { ...s.backend.config.rateLimits, registerIp: rate(2, HOUR) },
      });
      for (const ip of ['10.0.0.1', '10.0.0.2'])
        await post(app, REGISTER, credentials(uniqueName('reg')), { 'x-forwarded-for': ip });
      rateLimitedError(await post(app, REGISTER, credentials(uniqueName('reg')), { 'x-forwarded-for': '10.0.0.3' }), HOUR);
    });

    it('counts per forwarded IP with TRUST_PROXY=1, believing only the entry the trusted proxy wrote', async () => {
      const app = await limitedApp(s, {
        trustProxy: 1,
        rateLimits: { ...s.backend.config.rateLimits, registerIp: rate(1, HOUR) },
      });
      const register = (xff: string) => post(app, REGISTER, credentials(uniqueName('reg')), { 'x-forwarded-for': xff });
      expect(codes(await register('10.0.0.1'))).toEqual([]);
      rateLimitedError(await register('10.0.0.1'), HOUR);
      // A client's own entry in front of the proxy's changes nothing.
      rateLimitedError(await register('192.0.2.7, 10.0.0.1'), HOUR);
      expect(codes(await register('10.0.0.2'))).toEqual([]);
    });
  });

  describe('WebSocket', () => {
    it('closes a socket with 4429 once it sends more messages than its window allows', async () => {
      const app = await limitedApp(s, { rateLimits: { ...s.backend.config.rateLimits, wsMessages: rate(5, HOUR) } });
      const alice = await s.seed.user('alice');
      const socket = new WebSocket(wsUrl(app), 'graphql-transport-ws');
      const frames: string[] = [];
      socket.on('message', (data: Buffer) => frames.push(data.toString()));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      await new Promise((resolve) => socket.once('open', resolve));
      const acked = new Promise((resolve) => socket.once('message', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${alice.token}` } }));
      await acked;
      for (let i = 0; i < 5; i++) socket.send(JSON.stringify({ type: 'ping' })); // messages 2..6: the sixth is one too many
      expect(await closed).toBe(4429);
      expect(frames.map((f) => JSON.parse(f).type)).toEqual(['connection_ack', 'pong', 'pong', 'pong', 'pong']);
    });

    it('refuses one subscription more than the cap with BAD_USER_INPUT, while the others go on delivering', async () => {
      const app = await limitedApp(s, { maxSubscriptionsPerSocket: 3 });
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const client = tracked(app, alice.token);
      const subs = [1, 2, 3].map(() => new Subscription(client, MESSAGE_ADDED, { r: room.id }, messageProbe(app, alice, room)));
      for (const sub of subs) await sub.live();
      const extra = new Subscription(client, MESSAGE_ADDED, { r: room.id });
      await extra.settled();
      expect((extra.error as GqlError[]).map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      const sent = await seeder(app).send(alice, room, 'still delivered');
      for (const sub of subs) await sub.until(() => sub.values.some((v) => v.messageAdded.id === sent.id), 5000, 'the message');
      // The cap is of active subscriptions: one ended makes room for another.
      subs[0]!.dispose();
      const replacement = new Subscription(client, MESSAGE_ADDED, { r: room.id }, messageProbe(app, alice, room));
      await replacement.live();
    });

    it('closes one socket more than a user may have open with 4429; the others stay, and a freed slot is taken again', async () => {
      const app = await limitedApp(s, { maxSocketsPerUser: 2 });
      const alice = await s.seed.user('alice');
      const room = await s.seed.room(alice);
      const open = async () => {
        const client = tracked(app, alice.token);
        new Subscription(client, MESSAGE_ADDED, { r: room.id });
        await connected(client);
        return client;
      };
      const first = await open();
      const second = await open();
      expect(await closeCode(tracked(app, alice.token), room)).toBe(4429);
      const stillOpen = new Subscription(second, '{ me { id } }');
      await stillOpen.next(1);
      await closeSocket(first);
      // The server frees the slot when it sees the close, which no client event tells: try until a socket stays.
      await eventually(async () => (await closeCode(tracked(app, alice.token), room, 500)) === null, 'a freed slot', 5000, 100);
    });

    if (s.name === 'services') {
      it('counts a user’s sockets across instances on one Redis', async () => {
        const tag = randomBytes(4).toString('hex');
        const [a, b] = await Promise.all([
          limitedApp(s, { maxSocketsPerUser: 2 }, tag),
          limitedApp(s, { maxSocketsPerUser: 2 }, tag),
        ]);
        const alice = await s.seed.user('alice');
        const room = await s.seed.room(alice);
        for (const on of [a, b]) {
          const client = tracked(on, alice.token);
          new Subscription(client, MESSAGE_ADDED, { r: room.id });
          await connected(client);
        }
        expect(await closeCode(tracked(a, alice.token), room)).toBe(4429);
        expect(await closeCode(tracked(b, alice.token), room)).toBe(4429);
      });
    }
  });
});

/**
 * Opens the client's socket with a live subscription and resolves with its
 * close code; rejects if it is acknowledged instead (or, with `openMs`,
 * resolves null once acknowledged and still open that long).
 */
function closeCode(client: Client, room: TestRoom, openMs?: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket did not close')), 5000);
    client.on('connected', () => {
      if (openMs === undefined) return reject(new Error('the socket was acknowledged'));
      setTimeout(() => resolve(null), openMs);
    });
    client.on('closed', (event) => {
      clearTimeout(timer);
      resolve((event as { code: number }).code);
    });
    new Subscription(client, MESSAGE_ADDED, { r: room.id });
  });
}

if (!hasRedisServer && process.env.CI) throw new Error('redis-server is not installed: the Redis outage tests need one');
describe.runIf(hasRedisServer)('Rate limits while Redis fails [private redis-server]', () => {
  let redis: PrivateRedis;
  let app: App;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    app = createApp(
      testConfig({
        redis: { url: redis.url },
        redisPrefix: 'rate-limits:',
        rateLimits: { ...testConfig().rateLimits, send: rate(3, HOUR) },
        maxSocketsPerUser: 1,
      }),
    );
    await app.start();
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('keeps limiting, in this process, when Redis goes silent and then dies; nothing hangs, nothing crashes', async () => {
    const seed = seeder(app);
    const alice = await seed.user('alice');
    const room = await seed.room(alice);
    const send = (body: string) => gql(app, SEND, { i: { roomId: room.id, body } }, alice.token);
    expect(codes(await send('counted in Redis'))).toEqual([]);
    const firstSocket = await rawSocket(app, alice.token);
    expect(firstSocket.outcome).toBe('acknowledged'); // its slot is in Redis

    redis.pause(); // connected, and nothing answers: each limiter call gives up on Redis after its deadline
    const outcomes: Array<string | undefined> = [];
    for (let i = 0; i < 4; i++) outcomes.push(codes(await send(`silent ${i}`))[0]);
    // This process's own count of 3 started at the outage: three more, then refused.
    expect(outcomes).toEqual([undefined, undefined, undefined, 'RATE_LIMITED']);
    // The socket cap falls back to this instance's count, which knows the first socket.
    expect((await rawSocket(app, alice.token)).outcome).toBe(4429);
    await redis.kill(); // connections reset, new ones refused
    rateLimitedError(await send('dead'), HOUR);
    const bob = await seed.user('bob');
    await gqlOk(app, SEND, { i: { roomId: (await seed.room(bob)).id, body: 'another user is not limited' } }, bob.token);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(503);
    firstSocket.socket.terminate();
  });
});

/** A bare graphql-transport-ws socket that sends connection_init: acknowledged (and left open), or closed with a code. */
async function rawSocket(app: App, token: string): Promise<{ socket: WebSocket; outcome: 'acknowledged' | number }> {
  const socket = new WebSocket(wsUrl(app), 'graphql-transport-ws');
  const outcome = new Promise<'acknowledged' | number>((resolve) => {
    socket.once('message', () => resolve('acknowledged'));
    socket.once('close', (code) => resolve(code));
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  return { socket, outcome: await outcome };
}

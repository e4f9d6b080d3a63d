import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { getMainDefinition } from '@apollo/client/utilities';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { fetchExchange, Client as UrqlClient } from '@urql/core';
import { Kind, OperationTypeNode, parse } from 'graphql';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { chatTypePolicies, chatWsLink } from '../../client/apollo.js';
import {
  ChatNetworkError,
  ChatRequestError,
  createChatClient,
  CreateRoomDocument,
  login,
  LoginDocument,
  MeDocument,
  MessageAddedDocument,
  MessagesDocument,
  refresh,
  register,
  request,
  tokenExpiry,
  type ChatClient,
  type ConnectionState,
} from '../../client/index.js';
import { chatSubscriptionExchange } from '../../client/urql.js';
import { eventually, wsUrl } from '../support/client.js';
import { keepSending, PASSWORD, seeder, uniqueName, type TestRoom } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** Retries at once: the faults below are over by the time the socket tries again. */
const quickRetry = async () => new Promise<void>((resolve) => setTimeout(resolve, 50));

interface Follower {
  seq: (seq: number) => void;
  error: (error: unknown) => void;
}

/** Collects what a follower receives. */
function follower() {
  const seqs: number[] = [];
  const errors: unknown[] = [];
  return { seqs, errors, seq: (seq: number) => seqs.push(seq), error: (error: unknown) => errors.push(error) };
}

/** What a call rejected with (the tests below look at refusals). */
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

/** Records a chat client's states from now on, with a way to wait for one (an event, not a poll). */
function stateLog(chat: ChatClient) {
  const states: ConnectionState[] = [chat.state];
  const waiting = new Set<() => void>();
  chat.onStateChange((state) => {
    states.push(state);
    for (const wake of [...waiting]) wake();
  });
  return {
    states,
    statuses: () => states.map((state) => state.status),
    /** Resolves with the first state recorded from index `from` on that matches. */
    reaches(match: (state: ConnectionState) => boolean, what: string, from = 0): Promise<ConnectionState> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`No state ${what}; saw ${JSON.stringify(states)}`)), 10_000);
        const check = () => {
          const found = states.slice(from).find(match);
          if (!found) return;
          waiting.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        waiting.add(check);
        check();
      });
    },
  };
}

/** How one library signs in and subscribes through the kit: the two tests differ only here. */
interface Library {
  signIn(app: App, username: string): Promise<string>;
  /** Subscribes to messageAdded from `after: null` and reports each seq, and any error; returns the unsubscribe. */
  follow(app: App, chat: ChatClient, token: string, room: TestRoom, on: Follower): () => void;
}

const urql: Library = {
  async signIn(app, username) {
    const client = new UrqlClient({ url: `${app.url}/graphql`, exchanges: [fetchExchange] });
    const result = await client.mutation(LoginDocument, { input: { username, password: PASSWORD } }).toPromise();
    if (!result.data) throw new Error(`login failed: ${result.error?.message}`);
    return result.data.login.token;
  },
  follow(app, chat, token, room, on) {
    const client = new UrqlClient({
      url: `${app.url}/graphql`,
      fetchOptions: { headers: { authorization: `Bearer ${token}` } },
      exchanges: [fetchExchange, chatSubscriptionExchange(chat)],
    });
    const subscription = client.subscription(MessageAddedDocument, { roomId: room.id, after: null }).subscribe((result) => {
      if (result.error) on.error(result.error);
      if (result.data) on.seq(result.data.messageAdded.seq);
    });
    return () => subscription.unsubscribe();
  },
};

const apolloClient = (app: App, chat: ChatClient, token: string | null) => {
  const http = new HttpLink({ uri: `${app.url}/graphql`, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    chatWsLink(chat),
    http,
  );
  return new ApolloClient({ link, cache: new InMemoryCache({ typePolicies: chatTypePolicies }) });
};

const apollo: Library = {
  async signIn(app, username) {
    const client = new ApolloClient({ link: new HttpLink({ uri: `${app.url}/graphql` }), cache: new InMemoryCache() });
    const result = await client.mutate({ mutation: LoginDocument, variables: { input: { username, password: PASSWORD } } });
    if (!result.data) throw new Error(`login failed: ${result.error?.message}`);
    return result.data.login.token;
  },
  follow(app, chat, token, room, on) {
    const client = apolloClient(app, chat, token);
    const subscription = client
      .subscribe({ query: MessageAddedDocument, variables: { roomId: room.id, after: null } })
      .subscribe({
        next: (result) => {
          if (result.error) on.error(result.error);
          if (result.data) on.seq(result.data.messageAdded.seq);
        },
        error: on.error,
      });
    return () => subscription.unsubscribe();
  },
};

forEachBackend('Client kit', (s) => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * Alice follows a room through `library` on an instance of her own while bob
   * keeps sending through the other; mid-stream her socket is terminated by
   * the client, then reset from the server's side, then her instance stops
   * and a new one takes over on another port. Every seq arrives once, in order.
   */
  async function survivesEveryFault(library: Library) {
    const { alice, bob, room } = await seeder(s.a).roomWithTwoMembers();
    let current = await s.backend.startApp();
    cleanups.push(() => current.stop());
    const proxy = TcpProxy.forUrl(current.url);
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const first = current;
    const viaProxy = proxy.rewrite(wsUrl(first));

    const token = await library.signIn(current, alice.username);
    let reconnects = 0;
    const chat = createChatClient({
      // Through the proxy while the first instance serves; straight to its successor after.
      url: () => (current === first ? viaProxy : wsUrl(current)),
      token: () => token,
      webSocketImpl: WebSocket,
      retryWait: quickRetry,
      onReconnected: () => reconnects++,
    });
    cleanups.push(() => chat.dispose());
    const alices = follower();
    const received = alices.seqs;
    cleanups.push(library.follow(current, chat, token, room, alices));

    const sender = keepSending(s.a, bob, room);
    cleanups.push(() => sender.stop());
    const moreArrive = (count: number, what: string) => {
      const target = received.length + count;
      return eventually(async () => received.length >= target, what, 10_000, 10);
    };
    /** Runs a fault and waits until the kit is connected again (a stopping instance may accept one more socket and close it). */
    const reconnectAfter = async (what: string, fault: () => Promise<void> | void) => {
      const before = reconnects;
      await fault();
      await eventually(async () => reconnects > before, `a reconnect after ${what}`, 10_000, 10);
    };
    await moreArrive(3, 'the subscription to deliver'); // live: from here on nothing may be missed

    await reconnectAfter('terminate()', () => chat.ws.terminate()); // (a) the client drops its socket
    await moreArrive(3, 'messages after the client-side drop');

    // (a) the connection is reset from the server's side
    await reconnectAfter('the reset', async () => {
      await proxy.cut();
      await proxy.restore();
    });
    await moreArrive(3, 'messages after the reset');

    // (b) the instance goes away; a new one starts on another port
    await reconnectAfter('the new instance started', async () => {
      await first.stop();
      current = await s.backend.startApp();
    });
    await moreArrive(3, 'messages from the new instance');

    const last = await sender.stop();
    await eventually(async () => received.at(-1) === last, `seq ${last}`, 10_000, 10);
    const from = received[0]!;
    expect(received).toEqual(Array.from({ length: last - from + 1 }, (_, i) => from + i));
    expect(alices.errors).toEqual([]);
    // What roomEvents/myEvents missed is refetched with the helper onReconnected points at.
    const rooms = await chat.refreshMyRooms();
    expect(rooms.find((r) => r.id === room.id)?.lastMessage?.seq).toBe(last);
  }

  it('urql: subscriptionExchange on the kit receives every seq once, in order, across drops and a new instance', () =>
    survivesEveryFault(urql));

  it('Apollo Client: GraphQLWsLink on the kit receives every seq once, in order, across drops and a new instance', () =>
    survivesEveryFault(apollo));

  it('Apollo Client: relayStylePagination merges pages of Query.messages per room', async () => {
    const { alice, room } = await seeder(s.a).roomWithTwoMembers();
    await seeder(s.a).sendMany(alice, room, 5);
    const chat = createChatClient({ url: wsUrl(s.a), token: alice.token, webSocketImpl: WebSocket });
    cleanups.push(() => chat.dispose());
    const client = apolloClient(s.a, chat, alice.token);
    const newest = await client.query({ query: MessagesDocument, variables: { roomId: room.id, last: 2 } });
    const before = newest.data?.messages.pageInfo.startCursor;
    // What fetchMore does: the older page from the network, merged by the field policy.
    await client.query({ query: MessagesDocument, variables: { roomId: room.id, last: 2, before }, fetchPolicy: 'network-only' });
    const merged = client.readQuery({ query: MessagesDocument, variables: { roomId: room.id } });
    expect(merged?.messages.edges.map((e) => e.node.seq)).toEqual([2, 3, 4, 5]);
  });

  it('runs operations over the socket: typed results, and GraphQL errors as ChatRequestError with their code', async () => {
    const [alice, bob] = await seeder(s.a).users('alice', 'bob');
    const room = await seeder(s.a).room(alice, 'PRIVATE');
    const chat = createChatClient({ url: wsUrl(s.a), token: () => bob.token, webSocketImpl: WebSocket });
    cleanups.push(() => chat.dispose());
    expect((await chat.request(MeDocument)).me.username).toBe(bob.username);
    const refused = await chat.request(MessagesDocument, { roomId: room.id }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ChatRequestError);
    expect((refused as ChatRequestError).code).toBe('FORBIDDEN');
  });

  it('refreshes the token before exp and resumes when the server closes the socket at the old one’s exp', async () => {
    const shortLived = await s.backend.startApp({ jwt: { ...s.backend.config.jwt, ttlSeconds: 3 } });
    cleanups.push(() => shortLived.stop());
    const { alice, bob, room } = await seeder(s.a).roomWithTwoMembers();
    let token = await urql.signIn(shortLived, alice.username);
    const tokens = [token];
    const closes: number[] = [];
    let reconnects = 0;
    const chat = createChatClient({
      url: wsUrl(shortLived),
      token: () => token,
      webSocketImpl: WebSocket,
      retryWait: quickRetry,
      onReconnected: () => reconnects++,
      clientOptions: { on: { closed: (event) => closes.push((event as { code: number }).code) } },
    });
    cleanups.push(() => chat.dispose());
    const refresher = chat.keepTokenFresh({ getToken: () => token, onToken: (fresh) => tokens.push((token = fresh)) });
    cleanups.push(() => refresher.stop());
    const alices = follower();
    const received = alices.seqs;
    cleanups.push(urql.follow(shortLived, chat, token, room, alices));
    const sender = keepSending(s.a, bob, room);
    cleanups.push(() => sender.stop());
    await eventually(async () => received.length > 0, 'the subscription to deliver', 10_000, 10);

    await eventually(async () => closes.includes(4403) && reconnects > 0, 'the expiry close and a reconnect', 10_000, 10);
    expect(tokens.length).toBeGreaterThan(1); // refreshed before the first one lapsed
    expect(tokenExpiry(tokens.at(-1)!)).toBeGreaterThan(tokenExpiry(tokens[0]!)!);
    const count = received.length;
    await eventually(async () => received.length > count + 2, 'messages after the reconnect', 10_000, 10);
    const last = await sender.stop();
    await eventually(async () => received.at(-1) === last, `seq ${last}`, 10_000, 10);
    const from = received[0]!;
    expect(received).toEqual(Array.from({ length: last - from + 1 }, (_, i) => from + i));
    expect(alices.errors).toEqual([]);
  });
  it('with persisted: true sends documentIds, which a TRUSTED_DOCUMENTS=only server runs: sign-in, request(), and the socket’s request and subscribe, resuming after a drop', async () => {
    const only = await s.backend.startApp({ trustedDocuments: { ...s.backend.config.trustedDocuments, mode: 'only' } });
    cleanups.push(() => only.stop());
    const url = `${only.url}/graphql`;
    const credentials = { username: uniqueName('kit'), password: PASSWORD };
    // By default the kit sends its documents as text, which this server refuses.
    const refused = await failureOf(register(url, credentials));
    expect(refused).toBeInstanceOf(ChatRequestError);
    expect((refused as ChatRequestError).code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    const session = await register(url, credentials, { persisted: true });
    const { token } = await login(url, credentials, { persisted: true });
    expect((await request(url, MeDocument, undefined, { token, persisted: true })).me.id).toBe(session.user.id);
    const input = { name: uniqueName('room') };
    const { id: roomId } = (await request(url, CreateRoomDocument, { input }, { token, persisted: true })).createRoom;
    const room = { id: roomId, name: input.name };

    let reconnects = 0;
    const chat = createChatClient({
      url,
      token,
      webSocketImpl: WebSocket,
      persisted: true,
      retryWait: quickRetry,
      onReconnected: () => reconnects++,
    });
    cleanups.push(() => chat.dispose());
    expect((await chat.request(MeDocument)).me.id).toBe(session.user.id);
    const alices = follower();
    const received = alices.seqs;
    cleanups.push(
      chat.subscribe(
        MessageAddedDocument,
        { roomId: room.id, after: null },
        {
          next: ({ data }) => data && alices.seq(data.messageAdded.seq),
          error: alices.error,
        },
      ),
    );
    // Sent as text through the other instance of the deployment, which accepts it.
    const sender = keepSending(s.a, { id: session.user.id, username: credentials.username, token }, room);
    cleanups.push(() => sender.stop());
    const moreArrive = (count: number, what: string) => {
      const target = received.length + count;
      return eventually(async () => received.length >= target, what, 10_000, 10);
    };
    await moreArrive(3, 'the subscription to deliver');
    chat.ws.terminate(); // graphql-ws subscribes again with the payload, its `after` moved on
    await eventually(async () => reconnects > 0, 'a reconnect', 10_000, 10);
    await moreArrive(3, 'messages after the drop');
    const last = await sender.stop();
    await eventually(async () => received.at(-1) === last, `seq ${last}`, 10_000, 10);
    expect(received).toEqual(Array.from({ length: last - received[0]! + 1 }, (_, i) => received[0]! + i));
    expect(alices.errors).toEqual([]);
  });

  it('signs up, in and refreshes over HTTP with the contract’s payloads, and runs any document with request()', async () => {
    const url = `${s.a.url}/graphql`;
    const credentials = { username: uniqueName('kit'), password: PASSWORD };
    const registered = await register(url, credentials);
    expect(registered.user.username).toBe(credentials.username);
    const session = await login(url, credentials);
    expect(session.user.id).toBe(registered.user.id);
    const refreshed = await refresh(url, session.token);
    expect(refreshed.user.id).toBe(registered.user.id);
    expect(tokenExpiry(refreshed.token)).toBeGreaterThanOrEqual(tokenExpiry(session.token)!);
    // No variables needed, none given; the token as a string or a function called per request.
    expect((await request(url, MeDocument, undefined, { token: refreshed.token })).me.username).toBe(credentials.username);
    expect((await request(url, MeDocument, {}, { token: () => session.token })).me.id).toBe(registered.user.id);
  });

  it('rejects refusals with ChatRequestError carrying the contract’s code, reason, retryAfter and the HTTP status', async () => {
    const url = `${s.a.url}/graphql`;
    const [alice, bob] = await seeder(s.a).users('alice', 'bob');
    const privateRoom = await seeder(s.a).room(alice, 'PRIVATE');

    const taken = (await failureOf(register(url, { username: alice.username, password: PASSWORD }))) as ChatRequestError;
    expect(taken).toBeInstanceOf(ChatRequestError);
    expect(taken.code).toBe('BAD_USER_INPUT');

    const garbled = (await failureOf(refresh(url, 'not-a-token'))) as ChatRequestError;
    expect([garbled.code, garbled.reason]).toEqual(['UNAUTHENTICATED', 'TOKEN_INVALID']);

    const notMember = (await failureOf(
      request(url, MessagesDocument, { roomId: privateRoom.id }, { token: bob.token }),
    )) as ChatRequestError;
    expect([notMember.code, notMember.status]).toEqual(['FORBIDDEN', 200]);

    // Refused before it runs: graphql-response+json answers 400 with the errors.
    const unknownField = parse('query { noSuchField }') as TypedDocumentNode<{ noSuchField: string }, Record<string, never>>;
    const invalid = (await failureOf(request(url, unknownField, {}, { token: bob.token }))) as ChatRequestError;
    expect([invalid.code, invalid.status]).toEqual(['GRAPHQL_VALIDATION_FAILED', 400]);

    // A username's failed logins are limited (10 per 15 min in tests): the next answer says how long to wait.
    const wrong = { username: bob.username, password: 'not the password' };
    for (let i = 0; i < 10; i++) expect(((await failureOf(login(url, wrong))) as ChatRequestError).code).toBe('UNAUTHENTICATED');
    const limited = (await failureOf(login(url, wrong))) as ChatRequestError;
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.retryAfter).toBeGreaterThan(0);
  });

  it('rejects with ChatNetworkError when no GraphQL answer comes: nothing listening, or a response that is not GraphQL', async () => {
    const stopped = await s.backend.startApp();
    const url = `${stopped.url}/graphql`;
    await stopped.stop();
    const unreachable = await failureOf(request(url, MeDocument));
    expect(unreachable).toBeInstanceOf(ChatNetworkError);
    expect((unreachable as ChatNetworkError).status).toBeUndefined();

    const notGraphql = await failureOf(request(`${s.a.url}/no-such-path`, MeDocument));
    expect(notGraphql).toBeInstanceOf(ChatNetworkError);
    expect((notGraphql as ChatNetworkError).status).toBe(404);
  });

  it('reports connecting and live, reconnecting with the close code and reason while the server is away, live again, and closed on dispose', async () => {
    const { alice, bob, room } = await seeder(s.a).roomWithTwoMembers();
    let current = await s.backend.startApp();
    cleanups.push(() => current.stop());
    const first = current;
    const firstUrl = `${first.url}/graphql`; // http(s) URLs are taken as ws(s)
    const chat = createChatClient({
      // The stopped instance's port until the next one starts.
      url: () => (current === first ? firstUrl : `${current.url}/graphql`),
      token: alice.token,
      webSocketImpl: WebSocket,
      retryWait: quickRetry,
    });
    cleanups.push(() => chat.dispose());
    const log = stateLog(chat);
    expect(chat.state).toEqual({ status: 'idle' });
    const received: number[] = [];
    chat.subscribe(
      MessageAddedDocument,
      { roomId: room.id, after: null },
      { next: ({ data }) => received.push(data!.messageAdded.seq) },
    );
    await log.reaches((state) => state.status === 'live', 'live');
    expect(log.statuses()).toEqual(['idle', 'connecting', 'live']);
    // A message seen before the restart: the resubscription asks for what came after it, so one sent
    // while the new instance is still registering the subscription is caught up, not raced.
    const before = await seeder(first).send(bob, room, 'before the restart');
    await eventually(async () => received.includes(before.seq), 'the message before the restart', 10_000, 10);

    await first.stop(); // its sockets close with 1001
    const away = await log.reaches((state) => state.status === 'reconnecting', 'reconnecting');
    expect(away).toEqual({ status: 'reconnecting', reason: { code: 1001, message: 'Going away' }, attempt: 1 });
    // Nothing listens on the old port until the next instance starts: the retry is refused.
    const refused = await log.reaches((state) => state.status === 'reconnecting' && state.attempt === 2, 'a second attempt');
    expect(refused).toMatchObject({ reason: { code: 1006, message: expect.stringContaining('ECONNREFUSED') } });

    const statesBefore = log.states.length;
    current = await s.backend.startApp();
    await log.reaches((state) => state.status === 'live', 'live again', statesBefore);
    const attempts = log.states.flatMap((state) => (state.status === 'reconnecting' ? [state.attempt] : []));
    expect(attempts).toEqual(Array.from({ length: attempts.length }, (_, i) => i + 1)); // once per lost socket

    // Live means delivering: a message sent now arrives.
    const sent = await seeder(current).send(bob, room, 'after the restart');
    await eventually(async () => received.includes(sent.seq), 'the message after the restart', 10_000, 10);

    await chat.dispose();
    expect(chat.state).toEqual({ status: 'closed', reason: null });
    expect(log.statuses().slice(-2)).toEqual(['live', 'closed']);
  });

  it('reports reconnecting with 4403 for a refused token, and closed with it once retries are spent', async () => {
    const { room } = await seeder(s.a).roomWithTwoMembers();
    const retrying = createChatClient({ url: wsUrl(s.a), token: 'not-a-token', webSocketImpl: WebSocket, retryWait: quickRetry });
    cleanups.push(() => retrying.dispose());
    const retries = stateLog(retrying);
    retrying.subscribe(MessageAddedDocument, { roomId: room.id, after: null }, {});
    expect(await retries.reaches((state) => state.status === 'reconnecting', 'reconnecting')).toEqual({
      status: 'reconnecting',
      reason: { code: 4403, message: 'Forbidden' },
      attempt: 1,
    });
    // Disposing while an attempt is under way settles (graphql-ws's own dispose rejects with the attempt's 4403).
    await retrying.dispose();
    expect(retrying.state).toEqual({ status: 'closed', reason: null });

    const giving = createChatClient({ url: wsUrl(s.a), token: 'not-a-token', webSocketImpl: WebSocket, retryAttempts: 0 });
    cleanups.push(() => giving.dispose());
    const log = stateLog(giving);
    const failed = new Promise<unknown>((resolve) =>
      giving.subscribe(MessageAddedDocument, { roomId: room.id, after: null }, { error: resolve }),
    );
    expect(await log.reaches((state) => state.status === 'closed', 'closed')).toEqual({
      status: 'closed',
      reason: { code: 4403, message: 'Forbidden' },
    });
    expect(((await failed) as CloseEvent).code).toBe(4403); // the subscription ended with the close
    expect(log.statuses()).toEqual(['idle', 'connecting', 'closed']);
  });

  it('goes back to idle once the last operation over the socket ended (the socket is opened lazily)', async () => {
    const [alice] = await seeder(s.a).users('alice');
    const chat = createChatClient({ url: wsUrl(s.a), token: alice.token, webSocketImpl: WebSocket });
    cleanups.push(() => chat.dispose());
    const log = stateLog(chat);
    expect((await chat.request(MeDocument)).me.id).toBe(alice.id);
    await log.reaches((state) => state.status === 'idle', 'idle', 1);
    expect(log.statuses()).toEqual(['idle', 'connecting', 'live', 'idle']);
  });
});

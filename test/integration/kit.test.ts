import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { getMainDefinition } from '@apollo/client/utilities';
import { fetchExchange, Client as UrqlClient } from '@urql/core';
import { Kind, OperationTypeNode } from 'graphql';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { chatTypePolicies, chatWsLink } from '../../client/apollo.js';
import {
  ChatRequestError,
  createChatClient,
  LoginDocument,
  MeDocument,
  MessageAddedDocument,
  MessagesDocument,
  tokenExpiry,
  type ChatClient,
} from '../../client/index.js';
import { chatSubscriptionExchange } from '../../client/urql.js';
import { eventually, wsUrl } from '../support/client.js';
import { keepSending, PASSWORD, seeder, type TestRoom } from '../support/seed.js';
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
});

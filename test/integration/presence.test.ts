import type { Client } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  closeCodeOf,
  closeSocket,
  connected,
  eventually,
  gqlOk,
  Subscription,
  trackedClients,
  wsUrl,
} from '../support/client.js';
import { ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import { badTokens, seeder, tokenExpiringIn, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const ME = '{ me { id username online } }';
const USER = 'query($id: ID!) { user(id: $id) { id username online } }';
const MESSAGE_ADDED = 'subscription($r: ID!) { messageAdded(roomId: $r) { id body } }';
const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on MemberChanged { change roomId user { id } }
    ... on TypingChanged { roomId typing user { id } }
    ${ROOM_EVENTS_PROBE_FIELDS}
  }
}`;

type Event = { __typename: string; change?: string; user?: { id: string } };
const memberEvents = (sub: Subscription, userId: string) =>
  sub.values
    .map((v) => v.roomEvents as Event)
    .filter((e) => e.__typename === 'MemberChanged' && e.user?.id === userId)
    .map((e) => e.change);

/** Who has a socket open on any instance: User.online, and MemberChanged ONLINE/OFFLINE to their rooms. */
forEachBackend('Presence', (s) => {
  const connect = trackedClients();
  const client = (app: App, user: TestUser) => connect(app, user.token);
  /** `member`'s roomEvents on `app`, probed by their own typing (and edits) through `via`. */
  const watch = (app: App, member: TestUser, room: TestRoom, via: App = s.a) =>
    new Subscription(client(app, member), ROOM_EVENTS, { r: room.id }, roomEventsProbe(via, member, room));

  /** A socket for `user` kept open by a subscription to a room of theirs; resolves once acknowledged. */
  async function openSocket(app: App, user: TestUser): Promise<{ socket: Client; sub: Subscription }> {
    const room = await s.seed.room(user);
    const socket = client(app, user);
    const ack = connected(socket);
    const sub = new Subscription(socket, MESSAGE_ADDED, { r: room.id });
    await ack;
    return { socket, sub };
  }

  const onlineOf = async (viewerToken: string, userId: string, app: App = s.a) =>
    (await gqlOk(app, USER, { id: userId }, viewerToken)).user.online as boolean;

  describe('User.online', () => {
    it('is true while the user has an open socket and false after it closes', async () => {
      const [viewer, bob] = await s.seed.users('viewer', 'bob');
      expect(await onlineOf(viewer.token, bob.id)).toBe(false);
      const { socket, sub } = await openSocket(s.a, bob);
      await eventually(() => onlineOf(viewer.token, bob.id), 'bob online');
      expect((await gqlOk(s.a, ME, {}, bob.token)).me.online).toBe(true);
      sub.dispose();
      await socket.dispose();
      await eventually(async () => !(await onlineOf(viewer.token, bob.id)), 'bob offline');
    });

    it('stays true until the last of two sockets closes', async () => {
      const [viewer, bob] = await s.seed.users('viewer', 'bob');
      const [{ socket: first }, { socket: second }] = await Promise.all([openSocket(s.a, bob), openSocket(s.a, bob)]);
      await eventually(() => onlineOf(viewer.token, bob.id), 'bob online');
      // Closed for the client: the server has handled that close before it answers a request sent now.
      await closeSocket(first);
      expect(await onlineOf(viewer.token, bob.id)).toBe(true);
      await second.dispose();
      await eventually(async () => !(await onlineOf(viewer.token, bob.id)), 'bob offline');
    });

    // Embedded mode is one process: instances on one Redis share presence.
    if (s.name === 'services') {
      it('is true on the other instance too, through Redis', async () => {
        const [viewer, bob] = await s.seed.users('viewer', 'bob');
        const { socket, sub } = await openSocket(s.b, bob);
        await eventually(() => onlineOf(viewer.token, bob.id, s.a), 'bob online on A');
        sub.dispose();
        await socket.dispose();
        await eventually(async () => !(await onlineOf(viewer.token, bob.id, s.a)), 'bob offline on A');
      });
    }

    it('is not set by a socket that was refused', async () => {
      const [viewer, bob] = await s.seed.users('viewer', 'bob');
      const { expired } = await badTokens(bob.id);
      expect(await closeCodeOf(connect, s.a, { authorization: `Bearer ${expired}` })).toBe(4403);
      expect(await onlineOf(viewer.token, bob.id)).toBe(false);
    });
    it('is not left set by sockets that close while their connection_init is being verified', async () => {
      const [viewer, bob] = await s.seed.users('viewer', 'bob');
      // A token of its own for each socket (distinct expiries), so none is
      // answered from the server's cache of verified tokens: each waits for
      // a real signature check.
      const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => tokenExpiringIn(bob.id, 3600 + i)));
      // Raw sockets, so the init and the close leave together: the server learns
      // of the close while it is still checking the token. Half of them close
      // politely, half drop the connection.
      const racing = tokens.map(
        (token, i) =>
          new Promise<void>((resolve) => {
            const socket = new WebSocket(wsUrl(s.a), 'graphql-transport-ws');
            socket.on('open', () => {
              socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
              if (i % 2 === 0) socket.close(1000);
              else socket.terminate();
            });
            socket.on('error', () => {}); // a terminated socket may report its own end
            socket.on('close', () => resolve());
          }),
      );
      await Promise.all(racing);
      // One socket opened after them, acknowledged, then closed: their tokens were checked before its was.
      const { socket, sub } = await openSocket(s.a, bob);
      expect(await onlineOf(viewer.token, bob.id)).toBe(true);
      sub.dispose();
      await closeSocket(socket);
      expect(await onlineOf(viewer.token, bob.id)).toBe(false);
    });
  });

  describe('MemberChanged ONLINE and OFFLINE on Subscription.roomEvents', () => {
    it('announces ONLINE on the first socket and OFFLINE after the last, once per transition', async () => {
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = watch(s.b, alice, room);
      await sub.live();
      const first = client(s.a, bob);
      const second = client(s.a, bob);
      const keep = [new Subscription(first, ROOM_EVENTS, { r: room.id }), new Subscription(second, ROOM_EVENTS, { r: room.id })];
      await sub.until(() => memberEvents(sub, bob.id).length >= 1);
      // Closed for the client: the server has handled that close before the flush's requests,
      // so an OFFLINE it announced would come before the flush's event.
      await closeSocket(first);
      await sub.flush();
      expect(memberEvents(sub, bob.id)).toEqual(['ONLINE']);
      await second.dispose();
      await sub.until(() => memberEvents(sub, bob.id).length >= 2);
      await sub.flush(); // a later event has arrived: no second OFFLINE is still on its way
      expect(memberEvents(sub, bob.id)).toEqual(['ONLINE', 'OFFLINE']);
      keep.forEach((k) => k.dispose());
    });

    it('announces OFFLINE for the users of an instance that stops cleanly', async () => {
      const stopping = await s.backend.startApp();
      const { alice, bob, room } = await s.seed.roomWithTwoMembers();
      const sub = watch(s.a, alice, room);
      await sub.live();
      const bobs = new Subscription(client(stopping, bob), ROOM_EVENTS, { r: room.id });
      await sub.until(() => memberEvents(sub, bob.id).includes('ONLINE'));
      await stopping.stop(); // its users' offline announcements go out before it closes Redis
      await sub.until(() => memberEvents(sub, bob.id).includes('OFFLINE'), 5000, 'OFFLINE after the stop');
      await sub.flush();
      expect(memberEvents(sub, bob.id)).toEqual(['ONLINE', 'OFFLINE']);
      bobs.dispose();
    });

    // One process in embedded mode: a crash there takes every instance with it.
    if (s.name === 'services') {
      it('takes the users of a killed instance offline once their claims lapse, with nobody cleaning up', async () => {
        const short = { presenceTtlMs: 1000, presenceHeartbeatMs: 200 };
        const [survivor, doomed] = await Promise.all([s.backend.startApp(short), s.backend.startApp(short)]);
        const seed = seeder(survivor);
        const [alice, bob] = await seed.users('alice', 'bob');
        const room = await seed.room(alice);
        await seed.invite(alice, room, bob);
        const sub = watch(survivor, alice, room, survivor);
        await sub.live();
        const bobs = new Subscription(client(doomed, bob), ROOM_EVENTS, { r: room.id });
        await sub.until(() => memberEvents(sub, bob.id).includes('ONLINE'));
        expect(
          (await gqlOk(survivor, 'query($id: ID!) { user(id: $id) { online } }', { id: bob.id }, alice.token)).user.online,
        ).toBe(true);
        await doomed.kill();
        await sub.until(() => memberEvents(sub, bob.id).includes('OFFLINE'), 8000, 'OFFLINE after the lapse');
        expect(memberEvents(sub, bob.id)).toEqual(['ONLINE', 'OFFLINE']);
        expect(
          (await gqlOk(survivor, 'query($id: ID!) { user(id: $id) { online } }', { id: bob.id }, alice.token)).user.online,
        ).toBe(false);
        bobs.dispose();
      });
    }
  });
});

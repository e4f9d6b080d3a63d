import { gqlOk, type Probe } from './client.js';
import { seeder, uniqueName, type SentMessage, type TestRoom, type TestUser } from './seed.js';
import type { App } from './server.js';

/**
 * Probes for Subscription.live() and flush(), one per stream. Each goes
 * through `app`, the instance the test itself sends through, so it travels the
 * path the test's own events take (pub/sub included when the subscriber is on
 * the other instance), and each is chosen to leave alone what tests assert.
 */

/** The body of every probe message. */
export const PROBE_BODY = 'probe';

/**
 * What a roomEvents query must select for roomEventsProbe to recognise its
 * events. GraphQL merges it with the query's own fragments, so it adds no
 * field to the events a test compares.
 */
export const ROOM_EVENTS_PROBE_FIELDS =
  '... on TypingChanged { typing user { id } } ... on MessageChanged { message { id body } }';

/**
 * messageAdded: a message with body PROBE_BODY sent by `author`. Each probe
 * takes a seq of the room: `live()` says how many were sent before the test's
 * own messages. The query must select the message's `id` or `body` (and `id`
 * for flush()).
 */
export function messageProbe(app: App, author: TestUser, room: TestRoom): Probe & { readonly sent: readonly SentMessage[] } {
  const seed = seeder(app);
  const sent: SentMessage[] = [];
  const ids = new Set<string>();
  const mark = async () => {
    const message = await seed.send(author, room, PROBE_BODY);
    sent.push(message);
    ids.add(message.id);
    return (value: any) => value?.messageAdded?.id === message.id;
  };
  return {
    sent,
    fire: async () => void (await mark()),
    mark,
    is: (value: any) => {
      const message = value?.messageAdded;
      if (message?.id === undefined && message?.body === undefined)
        throw new Error('messageProbe needs the query to select messageAdded { id } or { body }');
      return ids.has(message.id) || message.body === PROBE_BODY;
    },
  };
}

/**
 * roomEvents: `member` starts and stops typing (TypingChanged true, then false,
 * so nothing is left to lapse). Those are alike from one probe to the next, so
 * flush() marks differently: `member` edits a probe message of theirs, sent on
 * the first flush, to a body of its own (a MessageChanged EDITED no test
 * expects; new messages are not roomEvents). Use `member` for the
 * subscriber, whose own typing and edits no test asserts; the query must
 * select ROOM_EVENTS_PROBE_FIELDS.
 */
export function roomEventsProbe(app: App, member: TestUser, room: TestRoom): Probe {
  const seed = seeder(app);
  const typing = (typing: boolean) =>
    gqlOk(app, 'mutation($r: ID!, $t: Boolean!) { setTyping(roomId: $r, typing: $t) }', { r: room.id, t: typing }, member.token);
  let message: SentMessage | null = null;
  let edits = 0;
  return {
    async fire() {
      await typing(true);
      await typing(false);
    },
    async mark() {
      message ??= await seed.send(member, room, PROBE_BODY);
      const body = `${PROBE_BODY} ${++edits}`;
      await gqlOk(
        app,
        'mutation($i: EditMessageInput!) { editMessage(input: $i) { id } }',
        { i: { id: message.id, body } },
        member.token,
      );
      const id = message.id;
      return (value: any) =>
        value?.roomEvents?.__typename === 'MessageChanged' &&
        value.roomEvents.message.id === id &&
        value.roomEvents.message.body === body;
    },
    is(value: any) {
      const event = value?.roomEvents;
      if (event?.__typename === 'TypingChanged') return probeField(event.user).id === member.id;
      if (event?.__typename === 'MessageChanged') return message !== null && probeField(event.message).id === message.id;
      return false;
    },
  };
}

/**
 * myEvents: `viewer` creates a PRIVATE room, announced to them as RoomAdded
 * (the user topic, then a feed opened for the room: the slowest path of the
 * stream, so a flush covers the others). The query must select RoomAdded's
 * `room { id }`.
 */
export function myEventsProbe(app: App, viewer: TestUser): Probe {
  const seed = seeder(app);
  const rooms = new Set<string>();
  const mark = async () => {
    const room = await seed.room(viewer, 'PRIVATE', uniqueName(PROBE_BODY));
    rooms.add(room.id);
    return (value: any) => value?.myEvents?.__typename === 'RoomAdded' && value.myEvents.room.id === room.id;
  };
  return {
    fire: async () => void (await mark()),
    mark,
    is(value: any) {
      const event = value?.myEvents;
      if (event?.__typename === 'RoomAdded') return rooms.has(event.room.id);
      if (event?.__typename === 'NewMessage') return rooms.has(event.message.roomId);
      return false;
    },
  };
}

function probeField<F>(field: F | undefined): F {
  if (field === undefined) throw new Error('roomEventsProbe needs the query to select ROOM_EVENTS_PROBE_FIELDS');
  return field;
}

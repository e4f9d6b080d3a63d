import { expect, it } from 'vitest';
import { codes, gql, gqlOk } from '../support/client.js';
import { MISSING_ID, type TestRoom, type TestUser } from '../support/seed.js';
import { forEachBackend } from '../support/suite.js';

/**
 * Per-room notification levels as a client sees them. The rules:
 * contract/chat.graphql, "Notifications for people who are not connected".
 */

const SETTINGS = 'notificationLevel notificationsMutedUntil';
const SET = `mutation($r: ID!, $level: NotificationLevel!, $until: DateTime) {
  setRoomNotifications(roomId: $r, level: $level, mutedUntil: $until) { id ${SETTINGS} }
}`;
const ROOM = `query($r: ID!) { room(id: $r) { ${SETTINGS} } }`;

interface Settings {
  notificationLevel: string;
  notificationsMutedUntil: string | null;
}

forEachBackend('Room notification levels', (s) => {
  const settingsOf = async (user: TestUser, room: { id: string }, app = s.a) =>
    (await gqlOk(app, ROOM, { r: room.id }, user.token)).room as Settings;
  const set = (user: TestUser, room: TestRoom | { id: string }, level: string, until: string | null = null, app = s.a) =>
    gql(app, SET, { r: room.id, level, until }, user.token);

  it('defaults to MENTIONS in a GROUP room and ALL in a DIRECT room, unmuted', async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    expect(await settingsOf(alice, room)).toEqual({ notificationLevel: 'MENTIONS', notificationsMutedUntil: null });
    const direct = (await gqlOk(s.a, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }', { u: bob.id }, alice.token))
      .openDirectRoom as { id: string };
    expect(await settingsOf(bob, direct)).toEqual({ notificationLevel: 'ALL', notificationsMutedUntil: null });
  });

  it("sets the viewer's own level and mute, read back on the other instance; the other member's stay as they were", async () => {
    const { alice, bob, room } = await s.seed.roomWithTwoMembers();
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const result = await set(bob, room, 'ALL', until);
    expect(result.errors).toBeUndefined();
    expect(result.data!.setRoomNotifications).toEqual({ id: room.id, notificationLevel: 'ALL', notificationsMutedUntil: until });
    expect(await settingsOf(bob, room, s.b)).toEqual({ notificationLevel: 'ALL', notificationsMutedUntil: until });
    expect(await settingsOf(alice, room, s.b)).toEqual({ notificationLevel: 'MENTIONS', notificationsMutedUntil: null });
    // Idempotent; null unmutes; a mute already past is no mute.
    expect((await set(bob, room, 'NONE')).data!.setRoomNotifications).toMatchObject({
      notificationLevel: 'NONE',
      notificationsMutedUntil: null,
    });
    expect((await set(bob, room, 'NONE')).data!.setRoomNotifications.notificationLevel).toBe('NONE');
    const past = new Date(Date.now() - 60_000).toISOString();
    expect((await set(bob, room, 'MENTIONS', past)).data!.setRoomNotifications.notificationsMutedUntil).toBeNull();
  });

  it('refuses a non-member (FORBIDDEN), an unknown room (NOT_FOUND), a level off the enum and a date that is not one', async () => {
    const { room } = await s.seed.roomWithTwoMembers();
    const dave = await s.seed.user('dave');
    expect(codes(await set(dave, room, 'ALL'))).toEqual(['FORBIDDEN']);
    expect(codes(await set(dave, { id: MISSING_ID }, 'ALL'))).toEqual(['NOT_FOUND']);
    // A PUBLIC room seen from outside shows the default, not anyone's choice.
    expect(await settingsOf(dave, room)).toEqual({ notificationLevel: 'MENTIONS', notificationsMutedUntil: null });
    expect(codes(await set(dave, room, 'LOUD'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await set(dave, room, 'ALL', 'tomorrow'))).toEqual(['BAD_USER_INPUT']);
    // A member's mute past what the database keeps: refused, not an internal error.
    const { bob, room: own } = await s.seed.roomWithTwoMembers();
    const far = await set(bob, own, 'ALL', '+275760-09-13T00:00:00.000Z');
    expect([codes(far), (far.errors?.[0]?.extensions as { field?: string } | undefined)?.field]).toEqual([
      ['BAD_USER_INPUT'],
      'mutedUntil',
    ]);
  });

  it('a member who leaves and joins again starts from the defaults', async () => {
    const { bob, room } = await s.seed.roomWithTwoMembers();
    await set(bob, room, 'NONE');
    await s.seed.leave(bob, room);
    await s.seed.join(bob, room);
    expect(await settingsOf(bob, room)).toEqual({ notificationLevel: 'MENTIONS', notificationsMutedUntil: null });
  });
});

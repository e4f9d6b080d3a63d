import { describe, expect, it } from 'vitest';
import { gql, gqlOk, Subscription, trackedClients } from '../support/client.js';
import { moderator, ok, outcome } from '../support/moderation.js';
import { ROOM_EVENTS_PROBE_FIELDS, roomEventsProbe } from '../support/probes.js';
import type { TestRoom, TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';

const ROOM_EVENTS = `subscription($r: ID!) {
  roomEvents(roomId: $r) {
    __typename
    ... on ReportFiled { report { id reason details status reporter { id } message { id } } }
    ... on ModerationEvent { action { kind target { id } message { id } reason } }
    ${ROOM_EVENTS_PROBE_FIELDS}
  }
}`;
const REPORT = `mutation($m: ID!, $why: ReportReason!, $details: String) {
  reportMessage(messageId: $m, reason: $why, details: $details) { id reason details status reporter { id } message { id } createdAt }
}`;
const REPORTS = `query($r: ID!, $status: ReportStatus, $first: Int) {
  reports(roomId: $r, status: $status, first: $first) { id status details message { id } reporter { id } resolvedBy { id } resolvedAt }
}`;
const RESOLVE = `mutation($id: ID!, $status: ReportStatus!) {
  resolveReport(reportId: $id, status: $status) { id status resolvedBy { id } resolvedAt }
}`;

type Event = { __typename: string; report?: any; action?: any };
const eventsOf = (sub: Subscription, type: string) =>
  sub.values.map((v) => v.roomEvents as Event).filter((e) => e.__typename === type);

forEachBackend('Reports', (s) => {
  const connect = trackedClients();

  /** alice owns a room where bob moderates and carol and dave are members; carol has said something. */
  async function reportedRoom() {
    const [alice, bob, carol, dave] = await s.seed.users('alice', 'bob', 'carol', 'dave');
    const room = await s.seed.room(alice);
    for (const member of [bob, carol, dave]) await s.seed.join(member, room);
    ok(await moderator(s.a).setRole(alice, room, bob, 'MODERATOR'));
    const said = await s.seed.send(carol, room, 'something rude');
    return { alice, bob, carol, dave, room, said };
  }
  const report = (app: App, by: TestUser, messageId: string, reason = 'HARASSMENT', details?: string) =>
    gql(app, REPORT, { m: messageId, why: reason, details }, by.token);
  const eventsAs = (app: App, viewer: TestUser, room: TestRoom) =>
    new Subscription(connect(app, viewer.token), ROOM_EVENTS, { r: room.id }, roomEventsProbe(s.a, viewer, room));

  describe('Subscription.roomEvents ReportFiled', () => {
    it('ReportFiled reaches moderators only, and stops for a moderator demoted while subscribed', async () => {
      const { alice, bob, carol, dave, room, said } = await reportedRoom();
      const moderatorSees = eventsAs(s.b, bob, room);
      const memberSees = eventsAs(s.b, carol, room);
      await Promise.all([moderatorSees.live(), memberSees.live()]);
      const first = ok(await report(s.a, dave, said.id, 'HARASSMENT', 'called me names')).reportMessage;
      await moderatorSees.until(() => eventsOf(moderatorSees, 'ReportFiled').length === 1);
      expect(eventsOf(moderatorSees, 'ReportFiled')).toEqual([
        {
          __typename: 'ReportFiled',
          report: {
            id: first.id,
            reason: 'HARASSMENT',
            details: 'called me names',
            status: 'OPEN',
            reporter: { id: dave.id },
            message: { id: said.id },
          },
        },
      ]);
      // bob is demoted on the other instance while his subscription stays open.
      ok(await moderator(s.a).setRole(alice, room, bob, 'MEMBER'));
      await moderatorSees.until(() => eventsOf(moderatorSees, 'ModerationEvent').length === 1);
      const second = await s.seed.send(carol, room, 'something worse');
      ok(await report(s.a, dave, second.id, 'HATE'));
      ok(await report(s.a, alice, second.id, 'HATE'));
      // Everything published before these marks has arrived: no second ReportFiled for bob, none ever for carol.
      await Promise.all([moderatorSees.flush(), memberSees.flush()]);
      expect(eventsOf(moderatorSees, 'ReportFiled')).toHaveLength(1);
      expect(eventsOf(memberSees, 'ReportFiled')).toEqual([]);
      // The room's owner, subscribed now, gets the next one.
      const ownerSees = eventsAs(s.b, alice, room);
      await ownerSees.live();
      ok(await report(s.a, bob, second.id, 'SPAM'));
      await ownerSees.until(() => eventsOf(ownerSees, 'ReportFiled').length === 1);
    });

    it('tells moderators, and only them, that a report was resolved', async () => {
      const { alice, bob, carol, dave, room, said } = await reportedRoom();
      const filed = ok(await report(s.a, dave, said.id)).reportMessage;
      const ownerSees = eventsAs(s.b, alice, room);
      const memberSees = eventsAs(s.b, dave, room);
      await Promise.all([ownerSees.live(), memberSees.live()]);
      const resolved = ok(await gql(s.a, RESOLVE, { id: filed.id, status: 'ACTIONED' }, bob.token)).resolveReport;
      expect(resolved).toMatchObject({ id: filed.id, status: 'ACTIONED', resolvedBy: { id: bob.id } });
      await ownerSees.until(() => eventsOf(ownerSees, 'ModerationEvent').length === 1);
      expect(eventsOf(ownerSees, 'ModerationEvent')[0]!.action).toEqual({
        kind: 'REPORT_RESOLVED',
        target: { id: carol.id },
        message: { id: said.id },
        reason: 'ACTIONED',
      });
      await memberSees.flush();
      expect(eventsOf(memberSees, 'ModerationEvent')).toEqual([]);
    });
  });

  describe('Mutation.reportMessage', () => {
    it('is idempotent per reporter and message: a repeat answers the first report and files nothing', async () => {
      const { bob, dave, room, said } = await reportedRoom();
      const first = ok(await report(s.a, dave, said.id, 'SPAM', 'ads')).reportMessage;
      const again = ok(await report(s.b, dave, said.id, 'HATE', 'changed my mind')).reportMessage;
      expect(again).toEqual(first);
      expect((await gqlOk(s.a, REPORTS, { r: room.id }, bob.token)).reports.map((r: { id: string }) => r.id)).toEqual([first.id]);
    });

    it("refuses details over 1,000 characters, one's own message, a non-member, and a DIRECT room", async () => {
      const { carol, dave, said } = await reportedRoom();
      const stranger = await s.seed.user('stranger');
      const direct = await gqlOk(s.a, 'mutation($u: ID!) { openDirectRoom(userId: $u) { id } }', { u: dave.id }, carol.token);
      const there = await s.seed.send(carol, { id: direct.openDirectRoom.id, name: '' }, 'hi');
      const results = await Promise.all([
        report(s.a, dave, said.id, 'OTHER', 'x'.repeat(1001)),
        report(s.a, carol, said.id),
        report(s.a, stranger, said.id),
        report(s.a, dave, there.id),
      ]);
      expect(results.map(outcome)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'FORBIDDEN', 'FORBIDDEN']);
      expect(outcome(await report(s.a, dave, said.id, 'OTHER', 'x'.repeat(1000)))).toBe('ok');
    });
  });

  describe('Query.reports and Mutation.resolveReport', () => {
    it('lists a status oldest first to MODERATOR and above, and refuses others', async () => {
      const { alice, bob, carol, dave, room, said } = await reportedRoom();
      const other = await s.seed.send(dave, room, 'another');
      const one = ok(await report(s.a, dave, said.id)).reportMessage;
      const two = ok(await report(s.a, carol, other.id)).reportMessage;
      const open = (await gqlOk(s.b, REPORTS, { r: room.id }, bob.token)).reports;
      expect(open.map((r: { id: string }) => r.id)).toEqual([one.id, two.id]);
      ok(await gql(s.a, RESOLVE, { id: one.id, status: 'DISMISSED' }, alice.token));
      const dismissed = (await gqlOk(s.b, REPORTS, { r: room.id, status: 'DISMISSED' }, alice.token)).reports;
      expect(dismissed).toMatchObject([{ id: one.id, status: 'DISMISSED', resolvedBy: { id: alice.id } }]);
      expect((await gqlOk(s.b, REPORTS, { r: room.id }, alice.token)).reports.map((r: { id: string }) => r.id)).toEqual([two.id]);
      expect(outcome(await gql(s.b, REPORTS, { r: room.id }, carol.token))).toBe('FORBIDDEN');
      expect(outcome(await gql(s.b, REPORTS, { r: room.id, first: 101 }, alice.token))).toBe('BAD_USER_INPUT');
    });

    it('refuses OPEN with BAD_USER_INPUT and a plain member with FORBIDDEN', async () => {
      const { carol, bob, dave, said } = await reportedRoom();
      const filed = ok(await report(s.a, dave, said.id)).reportMessage;
      expect(outcome(await gql(s.a, RESOLVE, { id: filed.id, status: 'OPEN' }, bob.token))).toBe('BAD_USER_INPUT');
      expect(outcome(await gql(s.a, RESOLVE, { id: filed.id, status: 'DISMISSED' }, carol.token))).toBe('FORBIDDEN');
    });
  });
});

import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { gql } from '../support/client.js';
import { moderator, outcome, rolesIn, type Role } from '../support/moderation.js';
import { seeder, type TestRoom, type TestUser } from '../support/seed.js';
import type { App } from '../support/server.js';
import { forEachBackend } from '../support/suite.js';
import { generousLimits, PROPERTY_TIMEOUT_MS, propertyParameters } from './setup.js';

/** Users of a run, by index; user 0 creates the room. */
const USERS = 6;
const ROLES: readonly Role[] = ['OWNER', 'ADMIN', 'MODERATOR', 'MEMBER'];

/** One thing someone tries: its actor and target are user indexes (the same one now and then). */
type Step =
  | { kind: 'setRole'; actor: number; target: number; role: Role }
  | { kind: 'kick' | 'ban' | 'unban' | 'mute' | 'unmute'; actor: number; target: number }
  | { kind: 'join'; actor: number };

const user = fc.integer({ min: 0, max: USERS - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('setRole' as const), actor: user, target: user, role: fc.constantFrom(...ROLES) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constantFrom('kick' as const, 'ban' as const, 'unban' as const, 'mute' as const, 'unmute' as const),
      actor: user,
      target: user,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('join' as const), actor: user }) },
);

/**
 * The rules as the contract words them, written out here on their own
 * (not the server's table): ranks OWNER > ADMIN > MODERATOR > MEMBER; an
 * action on another member needs a rank above theirs; setMemberRole is the
 * OWNER's (any role) and the ADMIN's (MODERATOR or MEMBER); kick, ban, unban
 * and mute are MODERATOR and above's; a ban need not find a member. The
 * answer's code follows the server's order of checks: the actor's standing,
 * then whether the member acted on exists, then ranks.
 */
const RANK: Record<Role, number> = { OWNER: 3, ADMIN: 2, MODERATOR: 1, MEMBER: 0 };

interface Model {
  roles: Map<number, Role>;
  banned: Set<number>;
}

function expected(model: Model, s: Step): string {
  if (s.kind === 'join') {
    if (model.roles.has(s.actor)) return 'ok';
    return model.banned.has(s.actor) ? 'FORBIDDEN BANNED' : 'ok';
  }
  const actor = model.roles.get(s.actor);
  const target = model.roles.get(s.target);
  if (actor === undefined) return 'FORBIDDEN';
  if (s.kind === 'setRole') {
    if (RANK[actor] < RANK.ADMIN) return 'FORBIDDEN';
    if (actor === 'ADMIN' && s.role !== 'MODERATOR' && s.role !== 'MEMBER') return 'FORBIDDEN';
  } else if (RANK[actor] < RANK.MODERATOR) {
    return 'FORBIDDEN';
  }
  if (s.kind === 'unban') return 'ok';
  if (target === undefined) return s.kind === 'ban' ? 'ok' : 'NOT_FOUND';
  return RANK[actor] > RANK[target] ? 'ok' : 'FORBIDDEN';
}

function apply(model: Model, s: Step): void {
  switch (s.kind) {
    case 'join':
      if (!model.roles.has(s.actor)) model.roles.set(s.actor, 'MEMBER');
      return;
    case 'setRole':
      if (s.role === 'OWNER') model.roles.set(s.actor, 'ADMIN');
      model.roles.set(s.target, s.role);
      return;
    case 'kick':
      model.roles.delete(s.target);
      return;
    case 'ban':
      model.roles.delete(s.target);
      model.banned.add(s.target);
      return;
    case 'unban':
      model.banned.delete(s.target);
      return;
    case 'mute':
    case 'unmute':
      return;
  }
}

forEachBackend('Random sequences of moderation', (s) => {
  let app: App;
  let users: TestUser[];

  beforeAll(async () => {
    app = await s.backend.startApp(generousLimits());
    users = await Promise.all(Array.from({ length: USERS }, () => seeder(app).user('prop')));
  });

  async function act(room: TestRoom, step: Step) {
    const m = moderator(app);
    const actor = users[step.actor]!;
    if (step.kind === 'join') return gql(app, 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room.id }, actor.token);
    const target = users[step.target]!;
    switch (step.kind) {
      case 'setRole':
        return m.setRole(actor, room, target, step.role);
      case 'kick':
        return m.kick(actor, room, target);
      case 'ban':
        return m.ban(actor, room, target);
      case 'unban':
        return m.unban(actor, room, target);
      case 'mute':
        return m.mute(actor, room, target, 60);
      case 'unmute':
        return m.mute(actor, room, target, 0);
    }
  }

  async function run(steps: Step[]): Promise<void> {
    const seed = seeder(app);
    const room = await seed.room(users[0]!);
    for (const member of users.slice(1)) await seed.join(member, room);
    const model: Model = { roles: new Map(users.map((_, i) => [i, i === 0 ? 'OWNER' : 'MEMBER'])), banned: new Set() };
    const owner = () => [...model.roles].find(([, role]) => role === 'OWNER')![0];
    for (const [i, step] of steps.entries()) {
      const before = new Map(model.roles);
      const answer = outcome(await act(room, step));
      const where = `step ${i} ${JSON.stringify(step)} with roles ${JSON.stringify([...before])}`;
      expect(answer, where).toBe(expected(model, step));
      if (answer === 'ok' && step.kind !== 'join' && step.kind !== 'unban' && before.has(step.target)) {
        // Never a lower rank (or an equal) acting on a higher one.
        expect(RANK[before.get(step.actor)!], where).toBeGreaterThan(RANK[before.get(step.target)!]);
      }
      if (answer === 'ok') apply(model, step);
      const roles = await rolesIn(app, users[owner()]!, room);
      expect(
        Object.values(roles).filter((role) => role === 'OWNER'),
        where,
      ).toHaveLength(1);
      expect(roles, where).toEqual(Object.fromEntries([...model.roles].map(([u, role]) => [users[u]!.id, role])));
    }
  }

  it(
    'never leaves a room without exactly one OWNER and never lets a lower rank act on a higher one',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), run),
        propertyParameters(40, 25_000, [
          // Hand-over, then the former owner (now ADMIN) tries the new owner.
          [
            [
              { kind: 'setRole', actor: 0, target: 1, role: 'OWNER' },
              { kind: 'kick', actor: 0, target: 1 },
              { kind: 'setRole', actor: 1, target: 0, role: 'MEMBER' },
              { kind: 'ban', actor: 1, target: 0 },
              { kind: 'join', actor: 0 },
            ],
          ],
        ]),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

import { gql, gqlOk, type GqlResult } from './client.js';
import type { TestRoom, TestUser } from './seed.js';
import type { App } from './server.js';

export type Role = 'OWNER' | 'ADMIN' | 'MODERATOR' | 'MEMBER';

/**
 * The moderation mutations as a client calls them, through `app`: each
 * answers the raw result (tests check refusals as often as successes).
 */
export function moderator(app: App) {
  const call = (by: TestUser, query: string, variables: Record<string, unknown>) => gql(app, query, variables, by.token);
  return {
    setRole: (by: TestUser, room: TestRoom, who: TestUser, role: Role) =>
      call(
        by,
        'mutation($r: ID!, $u: ID!, $role: RoomRole!) { setMemberRole(roomId: $r, userId: $u, role: $role) { role user { id } } }',
        { r: room.id, u: who.id, role },
      ),
    kick: (by: TestUser, room: TestRoom, who: TestUser, reason?: string) =>
      call(by, 'mutation($r: ID!, $u: ID!, $why: String) { kickMember(roomId: $r, userId: $u, reason: $why) }', {
        r: room.id,
        u: who.id,
        why: reason,
      }),
    ban: (by: TestUser, room: TestRoom, who: TestUser, durationSeconds: number | null = null, reason?: string) =>
      call(
        by,
        `mutation($r: ID!, $u: ID!, $d: Int, $why: String) {
          banMember(roomId: $r, userId: $u, durationSeconds: $d, reason: $why) {
            user { id } bannedBy { id } reason createdAt expiresAt
          }
        }`,
        { r: room.id, u: who.id, d: durationSeconds, why: reason },
      ),
    unban: (by: TestUser, room: TestRoom, who: TestUser) =>
      call(by, 'mutation($r: ID!, $u: ID!) { unbanMember(roomId: $r, userId: $u) }', { r: room.id, u: who.id }),
    mute: (by: TestUser, room: TestRoom, who: TestUser, durationSeconds: number, reason?: string) =>
      call(
        by,
        `mutation($r: ID!, $u: ID!, $d: Int!, $why: String) {
          muteMember(roomId: $r, userId: $u, durationSeconds: $d, reason: $why) { user { id } role mutedUntil }
        }`,
        { r: room.id, u: who.id, d: durationSeconds, why: reason },
      ),
    updateRoom: (by: TestUser, room: TestRoom, input: { name?: string; slowModeSeconds?: number; frozen?: boolean }) =>
      call(by, 'mutation($i: UpdateRoomInput!) { updateRoom(input: $i) { id name slowModeSeconds frozen } }', {
        i: { roomId: room.id, ...input },
      }),
  };
}

/** The data of a result that must have succeeded. */
export function ok<T = any>(result: GqlResult<T>): T {
  if (result.errors?.length) throw new Error(`Unexpected GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/** The first error's code and extensions.reason ("FORBIDDEN BANNED"), or "ok". */
export function outcome(result: GqlResult): string {
  const error = result.errors?.[0];
  if (!error) return 'ok';
  const { code, reason } = (error.extensions ?? {}) as { code?: string; reason?: string };
  return reason ? `${code} ${reason}` : String(code);
}

/** Each member's role, by user id, as the room lists them. */
export async function rolesIn(app: App, viewer: TestUser, room: TestRoom): Promise<Record<string, Role>> {
  const data = await gqlOk(app, 'query($r: ID!) { room(id: $r) { members { role user { id } } } }', { r: room.id }, viewer.token);
  return Object.fromEntries((data.room.members as Array<{ role: Role; user: { id: string } }>).map((m) => [m.user.id, m.role]));
}

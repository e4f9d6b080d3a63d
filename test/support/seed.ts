import { randomBytes } from 'node:crypto';
import type { App } from './server.js';
import { gqlOk } from './client.js';

export interface TestUser {
  id: string;
  username: string;
  token: string;
}
export interface TestRoom {
  id: string;
  name: string;
}

export const PASSWORD = 'correct horse battery';

export const uniqueName = (prefix = 'user') => `${prefix}_${randomBytes(4).toString('hex')}`;

/** Builders that read like the story of a test: `const { alice, bob, room } = await seed.roomWithTwoMembers()`. */
export function seeder(app: App) {
  const user = async (prefix = 'user'): Promise<TestUser> => {
    const username = uniqueName(prefix);
    const data = await gqlOk(
      app,
      'mutation($input: CredentialsInput!) { register(input: $input) { token user { id username } } }',
      { input: { username, password: PASSWORD } },
    );
    return { id: data.register.user.id, username, token: data.register.token };
  };
  const room = async (owner: TestUser, visibility: 'PUBLIC' | 'PRIVATE' = 'PUBLIC', name = uniqueName('room')): Promise<TestRoom> => {
    const data = await gqlOk(
      app,
      'mutation($input: CreateRoomInput!) { createRoom(input: $input) { id name } }',
      { input: { name, visibility } },
      owner.token,
    );
    return data.createRoom;
  };
  const invite = (by: TestUser, room: TestRoom, who: TestUser) =>
    gqlOk(app, 'mutation($r: ID!, $u: ID!) { inviteToRoom(roomId: $r, userId: $u) { id } }', { r: room.id, u: who.id }, by.token);
  const send = async (author: TestUser, room: TestRoom, body: string, extra: Record<string, unknown> = {}) => {
    const data = await gqlOk(
      app,
      'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq body cursor clientId } }',
      { input: { roomId: room.id, body, ...extra } },
      author.token,
    );
    return data.sendMessage as { id: string; seq: number; body: string; cursor: string; clientId: string | null };
  };
  return {
    user,
    room,
    invite,
    send,
    /** alice owns a PUBLIC room bob is a member of. */
    async roomWithTwoMembers(visibility: 'PUBLIC' | 'PRIVATE' = 'PUBLIC') {
      const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
      const r = await room(alice, visibility);
      await invite(alice, r, bob);
      return { alice, bob, room: r };
    },
  };
}

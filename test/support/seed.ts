import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { gqlOk } from './client.js';
import { TEST_SECRET } from './config.js';
import type { App } from './server.js';

export interface TestUser {
  id: string;
  username: string;
  token: string;
}
export interface TestRoom {
  id: string;
  name: string;
}
export interface SentMessage {
  id: string;
  seq: number;
  body: string;
  cursor: string;
  clientId: string | null;
}

export const PASSWORD = 'correct horse battery';

/** A well-formed id that names nothing. */
export const MISSING_ID = '00000000-0000-4000-8000-000000000000';

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
  const room = async (
    owner: TestUser,
    visibility: 'PUBLIC' | 'PRIVATE' = 'PUBLIC',
    name = uniqueName('room'),
  ): Promise<TestRoom> => {
    const data = await gqlOk(
      app,
      'mutation($input: CreateRoomInput!) { createRoom(input: $input) { id name } }',
      { input: { name, visibility } },
      owner.token,
    );
    return data.createRoom;
  };
  /** One user per prefix, registered together: `const [alice, bob] = await seed.users('alice', 'bob')`. */
  const users = <P extends string[]>(...prefixes: P) =>
    Promise.all(prefixes.map((prefix) => user(prefix))) as Promise<{ [K in keyof P]: TestUser }>;
  const invite = (by: TestUser, room: TestRoom, who: TestUser) =>
    gqlOk(app, 'mutation($r: ID!, $u: ID!) { inviteToRoom(roomId: $r, userId: $u) { id } }', { r: room.id, u: who.id }, by.token);
  const join = (who: TestUser, room: TestRoom) =>
    gqlOk(app, 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room.id }, who.token);
  const leave = (who: TestUser, room: TestRoom) =>
    gqlOk(app, 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: room.id }, who.token);
  const send = async (
    author: TestUser,
    room: TestRoom,
    body: string,
    extra: Record<string, unknown> = {},
  ): Promise<SentMessage> => {
    const data = await gqlOk(
      app,
      'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq body cursor clientId } }',
      { input: { roomId: room.id, body, ...extra } },
      author.token,
    );
    return data.sendMessage;
  };
  /** `count` messages by `author`, one after the other: "<username> 1", "<username> 2", … */
  const sendMany = async (author: TestUser, room: TestRoom, count: number): Promise<SentMessage[]> => {
    const sent: SentMessage[] = [];
    for (let i = 1; i <= count; i++) sent.push(await send(author, room, `${author.username} ${i}`));
    return sent;
  };
  const roomWithTwoMembers = async (visibility: 'PUBLIC' | 'PRIVATE' = 'PUBLIC') => {
    const [alice, bob] = await users('alice', 'bob');
    const r = await room(alice, visibility);
    await invite(alice, r, bob);
    return { alice, bob, room: r };
  };
  return {
    user,
    users,
    room,
    invite,
    join,
    leave,
    send,
    sendMany,
    /** alice owns a room (PUBLIC by default) bob is a member of. */
    roomWithTwoMembers,
    /** alice owns a PUBLIC room that bob and carol are members of; dave is not. */
    async roomOfThree() {
      const { alice, bob, room: r } = await roomWithTwoMembers();
      const [carol, dave] = await users('carol', 'dave');
      await invite(alice, r, carol);
      return { alice, bob, carol, dave, room: r };
    },
  };
}

export type Seed = ReturnType<typeof seeder>;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 token for `userId`, signed with the test servers' secret, that expires `seconds` from now. */
export const tokenExpiringIn = (userId: string, seconds: number) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(nowSeconds() + seconds)
    .sign(TEST_SECRET);

/** Tokens the server must refuse, each for a real user id. */
export async function badTokens(userId: string): Promise<Record<string, string>> {
  const exp = nowSeconds() + 3600;
  return {
    'signed with a different secret': await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode('another-secret-that-is-at-least-32-bytes-long')),
    'with alg=none': `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: userId, iat: nowSeconds(), exp })}.`,
    'signed HS512 with the same secret': await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(TEST_SECRET),
    expired: await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt(nowSeconds() - 7200)
      .setExpirationTime(nowSeconds() - 60)
      .sign(TEST_SECRET),
    'without sub': await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(TEST_SECRET),
  };
}

/** The author sends one message after another until stop(), which resolves with the last seq. */
export function keepSending(app: App, author: TestUser, room: TestRoom) {
  const seed = seeder(app);
  let running = true;
  let last = 0;
  const loop = (async () => {
    for (let i = 1; running; i++) last = (await seed.send(author, room, `message ${i}`)).seq;
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return last;
    },
  };
}

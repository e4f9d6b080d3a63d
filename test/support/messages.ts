import { expect } from 'vitest';
import { codes, gql, gqlOk, type GqlResult } from './client.js';
import type { TestRoom, TestUser } from './seed.js';
import type { App } from './server.js';

/**
 * Editing, deleting and reacting to messages as the message-changes and
 * reactions suites call them: each call returns the raw result, so a refusal
 * can be checked as strictly as a success.
 */
export const MESSAGE_FIELDS = 'id seq body editedAt deletedAt reactions { emoji count users { id } }';
const EDIT = `mutation($input: EditMessageInput!) { editMessage(input: $input) { ${MESSAGE_FIELDS} createdAt } }`;
const DELETE = `mutation($id: ID!) { deleteMessage(id: $id) { ${MESSAGE_FIELDS} } }`;
const ADD = `mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { ${MESSAGE_FIELDS} } }`;
const REMOVE = `mutation($m: ID!, $e: String!) { removeReaction(messageId: $m, emoji: $e) { ${MESSAGE_FIELDS} } }`;
const HISTORY = `query($r: ID!) { messages(roomId: $r) { edges { node { ${MESSAGE_FIELDS} } } } }`;

export const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface Reaction {
  emoji: string;
  count: number;
  users: Array<{ id: string }>;
}
export interface Message {
  id: string;
  seq: number;
  body: string;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: Reaction[];
}

export const edit = (app: App, user: TestUser | null, id: string, body: string): Promise<GqlResult> =>
  gql(app, EDIT, { input: { id, body } }, user?.token);
export const del = (app: App, user: TestUser | null, id: string): Promise<GqlResult> => gql(app, DELETE, { id }, user?.token);
export const react = (app: App, user: TestUser | null, m: string, e: string): Promise<GqlResult> =>
  gql(app, ADD, { m, e }, user?.token);
export const unreact = (app: App, user: TestUser | null, m: string, e: string): Promise<GqlResult> =>
  gql(app, REMOVE, { m, e }, user?.token);

/** The one field of a result that must have no errors. */
export async function ok<T = Message>(result: Promise<GqlResult>): Promise<T> {
  const { data, errors } = await result;
  if (errors?.length) throw new Error(`Unexpected GraphQL errors: ${JSON.stringify(errors)}`);
  return Object.values(data as Record<string, T>)[0]!;
}

/** A refused mutation: exactly one error with this code, and no data. */
export async function refused(result: Promise<GqlResult>, code: string): Promise<void> {
  const awaited = await result;
  expect(codes(awaited)).toEqual([code]);
  expect(awaited.data).toBeNull();
}

/** The room's history as `user` sees it, oldest first. */
export async function history(app: App, user: TestUser, room: TestRoom): Promise<Message[]> {
  const data = await gqlOk(app, HISTORY, { r: room.id }, user.token);
  return data.messages.edges.map((e: { node: Message }) => e.node);
}

/** One entry of Message.reactions: this emoji, by these users in this order. */
export const group = (emoji: string, ...users: TestUser[]): Reaction => ({
  emoji,
  count: users.length,
  users: users.map((u) => ({ id: u.id })),
});

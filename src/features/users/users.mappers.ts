import type { UserRow } from '../../db/schema.js';

/** What resolvers of User get: the stored row (its password hash never leaves through the schema). */
export type UserModel = UserRow;

/** What resolvers of AuthPayload get: a signed token and its user. */
export interface AuthResult {
  token: string;
  user: UserRow;
}

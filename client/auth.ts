import {
  LoginDocument,
  RefreshTokenDocument,
  RegisterDocument,
  type CredentialsInput,
  type LoginMutation,
} from './generated/graphql.js';
import { request, type RequestOptions } from './http.js';

/** What register, login and refresh give: the contract's AuthPayload, a token and the signed-in user. */
export type AuthResult = LoginMutation['login'];

/** Options of the sign-in helpers: as `request`'s, without the token they get or carry themselves. */
export type AuthOptions = Omit<RequestOptions, 'token'>;

/**
 * Creates an account and signs it in (HTTP POST to `url`, the server's
 * `/graphql`). A taken username or one the contract's rules refuse rejects
 * with `ChatRequestError` code BAD_USER_INPUT; a server serving only an
 * identity provider's tokens, FORBIDDEN.
 */
export async function register(url: string, credentials: CredentialsInput, options?: AuthOptions): Promise<AuthResult> {
  return (await request(url, RegisterDocument, { input: credentials }, options)).register;
}

/** Signs in. A wrong username or password rejects with `ChatRequestError` code UNAUTHENTICATED; too many, RATE_LIMITED. */
export async function login(url: string, credentials: CredentialsInput, options?: AuthOptions): Promise<AuthResult> {
  return (await request(url, LoginDocument, { input: credentials }, options)).login;
}

/**
 * Exchanges a token that has not expired yet for a fresh one of the same
 * session. Past the token's exp, or past the session's end (the server's
 * SESSION_MAX_AGE), it rejects with code UNAUTHENTICATED and reason
 * TOKEN_EXPIRED: sign in again. (`chat.keepTokenFresh()` does this on a
 * timer over the chat client's socket.)
 */
export async function refresh(url: string, token: string, options?: AuthOptions): Promise<AuthResult> {
  return (await request(url, RefreshTokenDocument, {}, { ...options, token })).refreshToken;
}

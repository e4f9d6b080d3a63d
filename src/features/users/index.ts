import { createProviderVerifier } from '../../auth/jwks.js';
import { PasswordHasher } from '../../auth/passwords.js';
import { createTokenIssuer, type TokenVerifier } from '../../auth/tokens.js';
import { defineFeature, type Platform } from '../feature.js';
import { createUserCheck } from './user-check.js';
import { createUsersLoaders } from './users.loaders.js';
import { usersResolvers } from './users.resolvers.js';
import { FIND_MAX, UsersService } from './users.service.js';
import { UsersStore } from './users.store.js';

/** Accounts, sign-in and the tokens that name users. */
export const usersFeature = defineFeature({
  name: 'users',
  resolvers: usersResolvers,
  mappers: { User: 'UserModel', AuthPayload: 'AuthResult' },
  services: (platform) => createUsers(platform),
  loaders: ({ users }) => createUsersLoaders(users),
  listSizes: { 'Query.users': { atMost: FIND_MAX } },
});

/**
 * Users and the tokens that name them: this server's own (HS256 with
 * JWT_SECRET), an identity provider's (JWT_JWKS_URL, users provisioned on
 * first sight), or both (a provider and LOCAL_AUTH=true).
 */
function createUsers({ config, db, realtime, limits, logger }: Platform): { users: UsersService; tokens: TokenVerifier } {
  const { secret, ttlSeconds, issuer, audience, jwks } = config.jwt;
  const { maxAgeSeconds: sessionMaxAgeSeconds, userRecheckMs } = config.sessions;
  const store = new UsersStore(db);
  // Both kinds of token name a user here, who may be deleted while they live.
  const userCheck = createUserCheck(store, userRecheckMs);
  const local = secret
    ? createTokenIssuer({
        secret,
        ttlSeconds,
        sessionMaxAgeSeconds,
        issuer: jwks ? null : issuer,
        audience: jwks ? null : audience,
        users: userCheck,
      })
    : null;
  const hasher = new PasswordHasher({ N: config.passwords.scryptN, r: 8, p: 1 });
  const users = new UsersService(
    store,
    { hasher, issuer: local, localAuth: config.localAuth, provider: jwks !== null, sessionMaxAgeSeconds },
    realtime.presence,
    limits,
    { cacheMs: userRecheckMs },
  );
  let tokens: TokenVerifier | null = local;
  if (jwks) {
    tokens = createProviderVerifier({
      jwks,
      // Required with a provider (config.ts).
      issuer: issuer!,
      audience: audience!,
      provision: async (identity) => (await users.provision(identity)).id,
      local: config.localAuth ? local : null,
      logger,
      users: userCheck,
    });
  }
  if (!tokens) throw new Error('no way to verify tokens: set JWT_SECRET or JWT_JWKS_URL');
  return { users, tokens };
}

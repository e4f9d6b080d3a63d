import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Config } from './server.js';

/** A signing key of the provider: what its JWKS serves (public) and what signs its tokens (private). */
export interface ProviderKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export interface TokenOptions {
  key: ProviderKey;
  /** Overrides the header's alg (a token the key's type cannot really sign is built elsewhere). */
  alg?: string;
  /** Claims; `iss`, `aud`, `iat` and an `exp` one hour away are added unless given (null leaves one out). */
  claims?: Record<string, unknown>;
}

/**
 * An identity provider on 127.0.0.1, port 0: a JWKS endpoint serving the
 * keys added so far (counting its requests), and tokens signed with them.
 */
export interface IdentityProvider {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** How many times the JWKS was fetched. */
  readonly requests: number;
  /** Generates a key and serves it from the next fetch on. */
  addKey(alg?: 'RS256' | 'ES256' | 'PS256' | 'RS384'): Promise<ProviderKey>;
  token(options: TokenOptions): Promise<string>;
  /** The config of an app that takes this provider's tokens (LOCAL_AUTH off unless overridden). */
  config(base: Config, jwks?: Partial<NonNullable<Config['jwt']['jwks']>>, overrides?: Partial<Config>): Partial<Config>;
  close(): Promise<void>;
}

export async function startIdentityProvider(): Promise<IdentityProvider> {
  const keys: ProviderKey[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  });
  const url = await listen(server);
  const issuer = `${url}/`;
  const audience = `chat-api-${randomBytes(3).toString('hex')}`;
  return {
    issuer,
    audience,
    jwksUrl: `${url}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    async addKey(alg = 'RS256') {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
      const key = { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
      keys.push(key);
      return key;
    },
    async token({ key, alg = key.alg, claims = {} }) {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iss: issuer, aud: audience, iat: now, exp: now + 3600, ...claims };
      for (const [name, value] of Object.entries(payload)) if (value === null) delete payload[name];
      return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    },
    config(base, jwks = {}, overrides = {}) {
      return {
        jwt: {
          ...base.jwt,
          secret: null,
          issuer,
          audience,
          jwks: {
            url: `${url}/.well-known/jwks.json`,
            algorithms: ['RS256', 'ES256'],
            usernameClaim: 'preferred_username',
            cooldownMs: 30_000,
            timeoutMs: 3000,
            ...jwks,
          },
        },
        localAuth: false,
        ...overrides,
      };
    },
    close: () => close(server),
  };
}

/** A JWKS endpoint that accepts connections and never answers. */
export async function startHangingEndpoint(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(() => {
    // Never answers.
  });
  const url = await listen(server);
  return { url: `${url}/jwks.json`, close: () => close(server) };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

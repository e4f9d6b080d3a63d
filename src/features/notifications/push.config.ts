import { createECDH } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../../data-dir.js';
import type { EnvReader } from '../../env-reader.js';

/** The server's VAPID identity (RFC 8292): what push services check our requests against. */
export interface VapidKeys {
  /** `VAPID_PUBLIC_KEY`: an uncompressed P-256 point, base64url (65 bytes); served as Query.vapidPublicKey. */
  readonly publicKey: string;
  /** `VAPID_PRIVATE_KEY`: the P-256 private scalar, base64url (32 bytes). */
  readonly privateKey: string;
  /** `VAPID_SUBJECT`: a mailto: or https: URL the push service may contact the operator at. */
  readonly subject: string;
}

/** Config.push: Web Push for members who are not connected. */
export interface PushConfig {
  /**
   * The VAPID keys; null: Web Push is off (vapidPublicKey null, registerPushSubscription refused).
   * @default generated once into .data/vapid.json on the embedded defaults outside production; null otherwise
   */
  readonly vapid: VapidKeys | null;
  /**
   * `PUSH_BATCH_MS`: the first message that notifies a member in a room opens a window this long; one
   * push at its end carries the count and the newest message.
   * @default 60000
   */
  readonly batchMs: number;
  /**
   * `PUSH_OFFLINE_MS`: a member is pushed to only once they have had no socket on any instance this long.
   * @default 30000
   */
  readonly offlineMs: number;
  /**
   * `PUSH_ALLOW_LOOPBACK_HTTP`: accept http:// endpoints on loopback (a local push service in tests);
   * every other endpoint must be https.
   * @default false
   */
  readonly allowLoopbackHttp: boolean;
  /**
   * `PUSH_TIMEOUT_MS`: a push service that has not answered by then fails that delivery.
   * @default 10000
   */
  readonly timeoutMs: number;
}

export interface PushConfigContext {
  /** NODE_ENV=production: never generated keys. */
  production: boolean;
  /** No DATABASE_URL and no REDIS_URL: one embedded instance, where generated keys are allowed. */
  embedded: boolean;
  /** Where generated keys are kept (.data/vapid.json). */
  devKeysFile: string;
}

/** The subject generated keys go with: a mailto: that names this server, for development only. */
export const DEV_VAPID_SUBJECT = 'mailto:chat-server@localhost';

export function parsePushConfig({ value, integerAtLeast, problems }: EnvReader, context: PushConfigContext): PushConfig {
  const publicKey = value('VAPID_PUBLIC_KEY');
  const privateKey = value('VAPID_PRIVATE_KEY');
  const subject = value('VAPID_SUBJECT');
  let vapid: VapidKeys | null = null;
  if (subject !== undefined && !/^(mailto:\S+|https:\/\/\S+)$/.test(subject)) {
    problems.push('VAPID_SUBJECT must be a mailto: or https: URL (mailto:ops@example.com)');
  }
  if (publicKey !== undefined || privateKey !== undefined) {
    if (publicKey === undefined || privateKey === undefined) {
      problems.push('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together: set both or neither');
    } else {
      if (decodedLength(publicKey) !== 65) problems.push('VAPID_PUBLIC_KEY must be a P-256 public key, base64url (65 bytes)');
      if (decodedLength(privateKey) !== 32) problems.push('VAPID_PRIVATE_KEY must be a P-256 private key, base64url (32 bytes)');
      if (subject === undefined) problems.push('VAPID_SUBJECT is required with VAPID_PUBLIC_KEY (mailto: or https:)');
      vapid = Object.freeze({ publicKey, privateKey, subject: subject ?? '' });
    }
  } else if (subject !== undefined) {
    problems.push('VAPID_SUBJECT is set but VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are not');
  } else if (context.embedded && !context.production) {
    // No warning: a key pair of its own is what an embedded install should have (unlike a dev JWT
    // secret, nothing is weaker for it), and start-up's refusals stay one line.
    vapid = Object.freeze({ ...loadOrCreateDevKeys(context.devKeysFile), subject: DEV_VAPID_SUBJECT });
  }
  const loopback = value('PUSH_ALLOW_LOOPBACK_HTTP') ?? 'false';
  if (loopback !== 'true' && loopback !== 'false') problems.push('PUSH_ALLOW_LOOPBACK_HTTP must be true or false');
  return Object.freeze({
    vapid,
    batchMs: integerAtLeast('PUSH_BATCH_MS', 60_000, 10),
    offlineMs: integerAtLeast('PUSH_OFFLINE_MS', 30_000, 0),
    allowLoopbackHttp: loopback === 'true',
    timeoutMs: integerAtLeast('PUSH_TIMEOUT_MS', 10_000, 100),
  });
}

function decodedLength(text: string): number {
  return /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url').byteLength : -1;
}

/**
 * The development key pair, persisted so browsers' subscriptions survive a
 * restart (a subscription is bound to the key it was made with). Private,
 * like the development JWT secret: whoever reads it can push as this server.
 */
function loadOrCreateDevKeys(file: string): { publicKey: string; privateKey: string } {
  ensurePrivateDir(dirname(file));
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { publicKey?: unknown; privateKey?: unknown };
      const { publicKey, privateKey } = stored;
      if (
        typeof publicKey === 'string' &&
        typeof privateKey === 'string' &&
        decodedLength(publicKey) === 65 &&
        decodedLength(privateKey) === 32
      ) {
        return { publicKey, privateKey };
      }
    } catch {
      // Unreadable: replaced below.
    }
  }
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const keys = {
    publicKey: ecdh.getPublicKey().toString('base64url'),
    // getPrivateKey() drops leading zero bytes: padded back to the 32 the key must have.
    privateKey: Buffer.concat([Buffer.alloc(32), ecdh.getPrivateKey()])
      .subarray(-32)
      .toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(keys) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600); // mode applies only to a file that writeFileSync creates
  return keys;
}

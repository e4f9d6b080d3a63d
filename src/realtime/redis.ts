import { Redis } from 'ioredis';
import { withDeadline } from '../deadline.js';
import type { Logger } from '../logger.js';

/**
 * This instance's two Redis connections, the only ones it opens: `commands`
 * for publishing and for presence and typing keys, `subscriber` for pub/sub.
 */
export interface RedisConnections {
  /** Never queues: during an outage a command fails at once instead of hanging its caller. */
  readonly commands: Redis;
  /** Queues SUBSCRIBE while reconnecting and resubscribes by itself. */
  readonly subscriber: Redis;
  /** Called each time the subscriber is back after an outage: whatever was published meanwhile is lost. */
  onResubscribed(listener: () => void): void;
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface RedisOptions {
  url: string;
  logger: Logger;
  /**
   * How long start-up waits for Redis before giving up (ms).
   * @default 5000
   */
  connectTimeoutMs?: number;
}

export async function openRedis({ url, logger, connectTimeoutMs = 5000 }: RedisOptions): Promise<RedisConnections> {
  // A committed write must never fail or wait because Redis is down, so the
  // command connection never queues; the subscriber may.
  // Auto-pipelining sends the commands of one event-loop turn (the announcements
  // of a batch of sends, say) in one write.
  const commands = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    enableAutoPipelining: true,
  });
  const subscriber = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  let lastError = '';
  for (const [role, client] of [
    ['publisher', commands],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (error: Error & { code?: string }) => {
      const text = `${role}:${error.code ?? error.message}`;
      if (text !== lastError) logger.warn('redis connection error', { role, code: error.code ?? error.name });
      lastError = text;
    });
  }
  try {
    await withDeadline(Promise.all([commands.connect(), subscriber.connect()]), connectTimeoutMs, 'redis');
  } catch (error) {
    commands.disconnect();
    subscriber.disconnect();
    throw error;
  }

  const listeners: Array<() => void> = [];
  let wasReady = true;
  subscriber.on('close', () => (wasReady = false));
  subscriber.on('ready', () => {
    if (wasReady) return;
    wasReady = true;
    lastError = '';
    logger.info('redis subscriber reconnected');
    for (const listener of listeners) listener();
  });

  return {
    commands,
    subscriber,
    onResubscribed: (listener) => listeners.push(listener),
    ping: async (timeoutMs) => {
      await withDeadline(commands.ping(), timeoutMs, 'redis');
    },
    close: async () => {
      // QUIT waits for a connection: during an outage it would wait forever,
      // and shutdown with it. Give it a second, then drop the sockets.
      await withDeadline(Promise.allSettled([commands.quit(), subscriber.quit()]), 1000, 'redis').catch(() => {});
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

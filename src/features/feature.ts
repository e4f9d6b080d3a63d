import type { Redis } from 'ioredis';
import type { Viewer } from '../auth/viewer.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Resolvers } from '../generated/graphql.js';
import type { Limits } from '../limits/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Outbox } from '../outbox/index.js';
import type { Realtime } from '../realtime/index.js';

/** What the app builds before any feature, and every feature may use. */
export interface Platform {
  readonly config: Config;
  readonly db: Database;
  /** Publishing, the room hub, presence, typing state and the lifecycle hooks. */
  readonly realtime: Realtime;
  /** The Redis command connection when REDIS_URL is set (state shared by instances); null: one instance. */
  readonly redis: Redis | null;
  readonly limits: Limits;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The time that bans, mutes, slow mode and the log's retention are judged by (clock.ts). */
  readonly clock: Clock;
  /** The origin clients reach this instance at: PUBLIC_URL, or the address it listens on once started. */
  readonly origin: () => string;
  /** Records events for webhooks in the transaction of the change they report (outbox/outbox.ts). */
  readonly outbox: Outbox;
}

/**
 * What the cost limit (transport/cost.ts) should know of a list field's
 * size where the schema does not say: how many items it returns when no
 * first/last asks (instead of MAX_LIST_SIZE_ASSUMED), and the most it ever
 * returns, whatever it is asked.
 */
export interface ListSize {
  readonly unasked?: number;
  readonly atMost?: number;
}

/**
 * One feature of the API: the folder `src/features/<name>/` and the schema
 * file `schema/<name>.graphql`, declared by the folder's index.ts and listed
 * once in features/index.ts, from which the schema, the services, the
 * loaders and codegen's mappers are assembled.
 *
 * - `Needs`: services of features listed before this one that its own are built on.
 * - `Provides`: what resolvers reach as `context.services`.
 * - `Loaders`: what resolvers reach as `context.loaders` (one set per operation).
 */
export interface Feature<Needs extends object, Provides extends object, Loaders extends object> {
  /** The folder under src/features/ and the schema file under schema/ (without `.graphql`). */
  readonly name: string;
  readonly resolvers: Resolvers;
  /**
   * GraphQL type name → the type its resolvers receive, exported by
   * `./<name>.mappers.ts` (codegen's mappers: rows instead of GraphQL shapes).
   */
  readonly mappers?: Readonly<Record<string, string>>;
  /** Builds the feature's services: once per app, from the platform and the features before it. */
  services(platform: Platform, needs: Needs): Provides;
  /** Batching loaders for one operation; `viewer` is read only when a batch runs (a shared rendering tells who looked). */
  loaders?(services: Provides, viewer: () => Viewer | null): Loaders;
  /** Subscribes the feature's services to the lifecycle hooks (realtime/hooks.ts). */
  listen?(services: Provides, platform: Platform): void;
  /** Sizes of its list fields, by schema coordinate (`Query.messages`), for the cost limit. */
  readonly listSizes?: Readonly<Record<string, ListSize>>;
}

/** Declares a feature, its types inferred from what it builds. */
export function defineFeature<Needs extends object, Provides extends object, Loaders extends object = object>(
  feature: Feature<Needs, Provides, Loaders>,
): Feature<Needs, Provides, Loaders> {
  return feature;
}

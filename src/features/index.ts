import type { Viewer } from '../auth/viewer.js';
import type { Resolvers } from '../generated/graphql.js';
import { attachmentsFeature } from './attachments/index.js';
import { blockingFeature } from './blocking/index.js';
import { eventsFeature } from './events/index.js';
import type { Feature, ListSize, Platform } from './feature.js';
import { mentionsFeature } from './mentions/index.js';
import { messagesFeature } from './messages/index.js';
import { moderationFeature } from './moderation/index.js';
import { notificationsFeature } from './notifications/index.js';
import { pinsFeature } from './pins/index.js';
import { reactionsFeature } from './reactions/index.js';
import { readStateFeature } from './read-state/index.js';
import { reportsFeature } from './reports/index.js';
import { roomsFeature } from './rooms/index.js';
import { searchFeature } from './search/index.js';
import { threadsFeature } from './threads/index.js';
import { typingFeature } from './typing/index.js';
import { usersFeature } from './users/index.js';

/**
 * The features of the API, each a folder here and a file in schema/. A
 * feature's services may be built on those listed before it (its `Needs`).
 * Adding a feature: its folder with an index.ts, its schema file, and a line here.
 */
export const features = [
  usersFeature,
  blockingFeature,
  roomsFeature,
  moderationFeature,
  messagesFeature,
  threadsFeature,
  mentionsFeature,
  attachmentsFeature,
  pinsFeature,
  reportsFeature,
  reactionsFeature,
  readStateFeature,
  typingFeature,
  eventsFeature,
  searchFeature,
  notificationsFeature,
] as const;

type AnyFeature = (typeof features)[number];
type ProvidesOf<F> = F extends Feature<object, infer P, object> ? P : never;
type LoadersOf<F> = F extends Feature<object, object, infer L> ? L : never;
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** What resolvers reach as `context.services`: every feature's services, by name. */
export type Services = Intersection<ProvidesOf<AnyFeature>>;
/** What resolvers reach as `context.loaders`. */
export type Loaders = Intersection<LoadersOf<AnyFeature>>;

/** The list as the assembly below walks it: every feature needs at most all services. */
const list: ReadonlyArray<Feature<Services, object, object>> = features;

/** Every feature's resolvers, for the schema. */
export const featureResolvers: Resolvers[] = list.map((feature) => feature.resolvers);

/** What every feature says of its list fields' sizes, for the cost limit. */
export const featureListSizes: Readonly<Record<string, ListSize>> = Object.fromEntries(
  list.flatMap((feature) => Object.entries(feature.listSizes ?? {})),
);

/** Every feature's schema file under schema/, in list order. */
export const featureSchemaFiles: string[] = list.map((feature) => `${feature.name}.graphql`);

/**
 * Builds each feature's services in list order, then lets each subscribe to
 * the lifecycle hooks. A feature that reaches for a service of one listed
 * after it fails here, at start, naming both.
 */
export function createFeatureServices(platform: Platform): Services {
  const services = {} as Services;
  for (const feature of list) {
    const needs = new Proxy(services, {
      get(target, key) {
        if (typeof key === 'string' && !(key in target)) {
          throw new Error(`feature ${feature.name} needs ${key}, which no feature listed before it provides`);
        }
        return Reflect.get(target, key) as unknown;
      },
    });
    Object.assign(services, feature.services(platform, needs));
  }
  for (const feature of list) feature.listen?.(services, platform);
  return services;
}

/** One set of loaders per operation (for a live event: per rendering, so nothing is cached across events). */
export function createLoaders(services: Services, viewer: () => Viewer | null): Loaders {
  const loaders = {} as Loaders;
  for (const feature of list) Object.assign(loaders, feature.loaders?.(services, viewer));
  return loaders;
}

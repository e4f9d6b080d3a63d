import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { createSchema } from 'graphql-yoga';
import type { Context } from './context.js';
import { featureResolvers, featureSchemaFiles } from './features/index.js';
import type { Limits } from './limits/index.js';
import { limitMutations } from './limits/mutation-limits.js';

const schemaDir = fileURLToPath(new URL('../schema/', import.meta.url));

/** base.graphql (the roots and shared scalars), then each feature's file in list order: the served schema is exactly these. */
export function loadTypeDefs(): string[] {
  return ['base.graphql', ...featureSchemaFiles].map((file) => readFileSync(schemaDir + file, 'utf8'));
}

/**
 * ISO-8601 in UTC with milliseconds, e.g. 2026-11-22T23:07:23.123Z. The
 * resolver's scalar replaces the SDL's, description and all, so it carries
 * the contract's description and specifiedByURL itself.
 */
const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant, as an ISO-8601 string in UTC with milliseconds: 2026-11-22T23:07:23.123Z.',
  specifiedByURL: 'https://scalars.graphql.org/andimarek/date-time',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    const date = typeof value === 'string' ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral(ast) {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : null;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
});

/** The served schema; with `limiters`, every Mutation field behind its per-user limit (limits/mutation-limits.ts). */
export function buildSchema(limiters?: Limits['mutations']) {
  const schema = createSchema<Context>({
    typeDefs: loadTypeDefs(),
    resolvers: [{ DateTime }, ...featureResolvers],
  });
  limitMutations(schema, limiters);
  return schema;
}

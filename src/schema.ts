import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { createSchema } from 'graphql-yoga';
import type { Context } from './context.js';
import { eventsResolvers } from './features/events/events.resolvers.js';
import { messagesResolvers } from './features/messages/messages.resolvers.js';
import { reactionsResolvers } from './features/reactions/reactions.resolvers.js';
import { readStateResolvers } from './features/read-state/read-state.resolvers.js';
import { roomsResolvers } from './features/rooms/rooms.resolvers.js';
import { searchResolvers } from './features/search/search.resolvers.js';
import { typingResolvers } from './features/typing/typing.resolvers.js';
import { usersResolvers } from './features/users/users.resolvers.js';

const schemaDir = fileURLToPath(new URL('../schema/', import.meta.url));

/** The SDL files, base first; the served schema is exactly these. */
export function loadTypeDefs(): string[] {
  const files = readdirSync(schemaDir)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  return ['base.graphql', ...files.filter((f) => f !== 'base.graphql')].map((f) => readFileSync(schemaDir + f, 'utf8'));
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

export function buildSchema() {
  return createSchema<Context>({
    typeDefs: loadTypeDefs(),
    resolvers: [
      { DateTime },
      usersResolvers,
      roomsResolvers,
      messagesResolvers,
      reactionsResolvers,
      eventsResolvers,
      typingResolvers,
      readStateResolvers,
      searchResolvers,
    ] as never,
  });
}

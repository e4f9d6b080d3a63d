import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { describe, expect, it } from 'vitest';
import { limitMutations, MUTATION_LIMITS } from '../../src/limits/mutation-limits.js';
import { buildSchema } from '../../src/schema.js';

describe('MUTATION_LIMITS', () => {
  it('has a line for every Mutation field of the served schema, and none for a field it does not serve', () => {
    const fields = Object.keys(buildSchema().getMutationType()!.getFields());
    expect(Object.keys(MUTATION_LIMITS).sort()).toEqual([...fields].sort());
  });

  it('leaves only register and login without a per-user limit (they count per IP and per username)', () => {
    const unlimited = Object.entries(MUTATION_LIMITS).filter(([, limit]) => limit === 'none');
    expect(unlimited.map(([field]) => field).sort()).toEqual(['login', 'register']);
  });

  it('refuses to build a schema with a Mutation field that has no line', () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
      mutation: new GraphQLObjectType({
        name: 'Mutation',
        fields: { sendMessage: { type: GraphQLString }, archiveEverything: { type: GraphQLString } },
      }),
    });
    expect(() => limitMutations(schema)).toThrow(/Mutation\.archiveEverything has no line in MUTATION_LIMITS/);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSchema as buildSdl, GraphQLScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printServedSchema, schemaFile } from '../../scripts/print-schema.js';
import { buildSchema } from '../../src/schema.js';

const contractPath = fileURLToPath(new URL('../../contract/chat.graphql', import.meta.url));

describe('the published schema (schema.graphql)', () => {
  it('is the served schema as printed now (npm run schema:print)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(printServedSchema());
  });

  it('describes DateTime as the contract does and names its specification, in the served schema and the file', () => {
    const contract = buildSdl(readFileSync(contractPath, 'utf8')).getType('DateTime') as GraphQLScalarType;
    const served = buildSchema().getType('DateTime') as GraphQLScalarType;
    expect(served.description).toBe(contract.description);
    expect(served.specifiedByURL).toBe('https://scalars.graphql.org/andimarek/date-time');
    const published = buildSdl(readFileSync(schemaFile, 'utf8')).getType('DateTime') as GraphQLScalarType;
    expect(published.description).toBe(contract.description);
    expect(published.specifiedByURL).toBe(served.specifiedByURL);
  });
});

import { expect, it } from 'vitest';
import { gqlOk } from '../support/client.js';
import { forEachBackend } from '../support/suite.js';

forEachBackend('introspection over HTTP', (s) => {
  it("gives DateTime the contract's description and its @specifiedBy URL", async () => {
    const data = await gqlOk(s.a, '{ __type(name: "DateTime") { kind name description specifiedByURL } }');
    expect(data.__type).toEqual({
      kind: 'SCALAR',
      name: 'DateTime',
      description: 'An instant, as an ISO-8601 string in UTC with milliseconds: 2026-11-22T23:07:23.123Z.',
      specifiedByURL: 'https://scalars.graphql.org/andimarek/date-time',
    });
  });
});

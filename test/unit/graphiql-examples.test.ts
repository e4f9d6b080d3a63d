import { Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema.js';
import { graphiqlAssets } from '../../src/transport/graphiql-assets.js';
import { EXAMPLE_OPERATIONS, renderGraphiQLPage } from '../../src/transport/graphiql.js';

describe("GraphiQL's example operations", () => {
  it('are valid against the served schema: register, a room, a message, history and a subscription', () => {
    const document = parse(EXAMPLE_OPERATIONS);
    expect(validate(buildSchema(), document).map((e) => e.message)).toEqual([]);
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    expect(operations.map((o) => `${o.operation} ${o.name?.value}`)).toEqual([
      'mutation Register',
      'mutation Login',
      'mutation CreateRoom',
      'query MyRooms',
      'mutation SendMessage',
      'query History',
      'subscription MessageAdded',
    ]);
  });

  it('open the page as its default document', async () => {
    const html = renderGraphiQLPage(await graphiqlAssets(), 'Chat API');
    const settings = /<script id="graphiql-settings" type="application\/json">(.*?)<\/script>/.exec(html)?.[1];
    expect(JSON.parse(settings!).options.defaultQuery).toBe(EXAMPLE_OPERATIONS);
  });
});

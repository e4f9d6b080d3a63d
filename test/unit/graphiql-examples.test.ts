import { Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema.js';
import { EXAMPLE_OPERATIONS, renderChatGraphiQL } from '../../src/transport/graphiql.js';

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

  it('open the page as its default document', () => {
    const html = renderChatGraphiQL({ title: 'Chat API' });
    expect(html).toContain(JSON.stringify(EXAMPLE_OPERATIONS).slice(1, -1));
  });
});

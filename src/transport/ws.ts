import type { IncomingMessage, Server } from 'node:http';
import type { DocumentNode, ExecutionArgs, GraphQLError, GraphQLSchema } from 'graphql';
import { CloseCode, type Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken, type TokenIssuer } from '../auth/tokens.js';
import type { Viewer } from '../auth/viewer.js';
import { withCode } from '../errors.js';
import type { Connections } from '../realtime/connections.js';
import { GRAPHQL_PATH, type GraphQLServer } from './yoga.js';

export interface WsOptions {
  server: Server;
  graphql: GraphQLServer;
  tokens: TokenIssuer;
  /** Told of every socket that authenticated, and when it closed. */
  connections: Connections;
}

/** Per-socket state graphql-ws keeps in ctx.extra. */
interface SocketExtra extends Record<PropertyKey, unknown> {
  socket: WebSocket;
  request: IncomingMessage;
  viewer?: Viewer | null;
  expiryTimer?: NodeJS.Timeout;
}

type ConnectionParams = Record<string, unknown> | undefined;

/** What yoga's getEnveloped returns, with graphql-js's signatures (envelop types them as any). */
interface Enveloped {
  schema: GraphQLSchema;
  parse(source: string): DocumentNode;
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
  contextFactory(): Promise<unknown>;
  execute(args: ExecutionArgs): never;
  subscribe(args: ExecutionArgs): never;
}

/** setTimeout's limit; a token that lives longer is simply not timed out early. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The graphql-transport-ws adapter on the HTTP server's /graphql path:
 * connection auth from the connection_init payload (4403 without a valid
 * token, and again when the token expires), then every operation through the
 * same envelop as HTTP (yoga's getEnveloped), so both transports share
 * plugins, context and masking. Returns the dispose that closes every socket
 * with 1001.
 */
export function attachGraphqlWs({ server, graphql, tokens, connections }: WsOptions): { dispose(): void | Promise<void> } {
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
  return useServer<ConnectionParams, SocketExtra>(
    {
      isProd: true,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const token = bearerToken(params.authorization ?? params.Authorization);
        const verified = token ? await tokens.verify(token) : null;
        if (!verified) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.viewer = { userId: verified.userId };
        const ttl = verified.expiresAt - Date.now();
        if (ttl < MAX_TIMER_MS) {
          ctx.extra.expiryTimer = setTimeout(() => ctx.extra.socket.close(CloseCode.Forbidden, 'Token expired'), ttl);
          ctx.extra.expiryTimer.unref();
        }
        connections.opened(verified.userId);
        return true;
      },
      onDisconnect: (ctx) => {
        clearTimeout(ctx.extra.expiryTimer);
        const userId = ctx.extra.viewer?.userId;
        if (userId) connections.closed(userId);
      },
      onSubscribe: async (ctx: WsContext<ConnectionParams, SocketExtra>, _id, params) => {
        const enveloped = graphql.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params }) as Enveloped;
        let document;
        try {
          document = enveloped.parse(params.query);
        } catch (error) {
          return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
        const args: ExecutionArgs & { rootValue: Enveloped } = {
          schema: enveloped.schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: enveloped,
        };
        return args;
      },
      // The operation runs through the envelop it was parsed with (carried as rootValue).
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
    },
    wss,
  );
}

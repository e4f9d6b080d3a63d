import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL sends the Headers editor's headers with HTTP requests only; its
 * WebSocket connection_init payload would be empty, and this server closes
 * such sockets with 4403. The page therefore hands GraphiQL a
 * connectionParams function that reads the Authorization header of the
 * active tab (from GraphiQL's own saved state) when the socket connects, so
 * subscriptions run from GraphiQL authenticate like any client's.
 */
const CONNECTION_PARAMS = `function () {
  try {
    var headers = localStorage.getItem('graphiql:headers');
    var state = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
    var tab = state && state.tabs && state.tabs[state.activeTabIndex || 0];
    if (tab && tab.headers) headers = tab.headers;
    var parsed = JSON.parse(headers || '{}');
    var authorization = parsed.Authorization || parsed.authorization;
    return authorization ? { authorization: authorization } : {};
  } catch (error) {
    return {};
  }
}`;

/**
 * The document GraphiQL opens with (a `?query=` in the URL, or a tab the
 * browser kept, takes its place): a few named operations to run in order,
 * each with the default values that make it run as it is.
 */
export const EXAMPLE_OPERATIONS = `# Welcome to the Chat API. Run the operations below in order
# (the play button offers each by name).
#
# 1. Register (or Login) answers a token. Open the Headers tab and paste
#      { "Authorization": "Bearer <token>" }
#    HTTP requests and the WebSocket of subscriptions both use it.
# 2. CreateRoom answers the room's id: put it in the Variables tab as
#      { "roomId": "<id>" }
# 3. Run MessageAdded in a second tab (the + above the editor), then
#    SendMessage here: the message arrives there live.
#
# The whole schema, with every rule in its descriptions: the Docs pane, or
# schema.graphql in the repository.

mutation Register($username: String! = "alice", $password: String! = "correct horse battery") {
  register(input: { username: $username, password: $password }) {
    token
    user { id username }
  }
}

mutation Login($username: String! = "alice", $password: String! = "correct horse battery") {
  login(input: { username: $username, password: $password }) {
    token
  }
}

mutation CreateRoom($name: String! = "general") {
  createRoom(input: { name: $name }) { id name }
}

query MyRooms {
  myRooms { id name unreadCount }
}

mutation SendMessage($roomId: ID!, $body: String! = "Hello!") {
  sendMessage(input: { roomId: $roomId, body: $body }) {
    id seq body createdAt author { username }
  }
}

query History($roomId: ID!) {
  messages(roomId: $roomId, last: 20) {
    edges { node { seq body author { username } } }
    pageInfo { hasPreviousPage startCursor }
  }
}

# Live messages; after: a message's cursor resumes with what came since.
subscription MessageAdded($roomId: ID!) {
  messageAdded(roomId: $roomId) { seq body author { username } }
}
`;

/** yoga's bundled GraphiQL (no CDN: scripts, styles and workers are inlined), signed in over WebSocket too. */
export function renderChatGraphiQL(options?: GraphiQLOptions): string {
  const opts = { defaultQuery: EXAMPLE_OPERATIONS, ...options, shouldPersistHeaders: true };
  const html = renderGraphiQL(opts);
  const literal = JSON.stringify(opts);
  const at = html.lastIndexOf(literal);
  if (at < 0) return html;
  return `${html.slice(0, at)}Object.assign(${literal}, { connectionParams: ${CONNECTION_PARAMS} })${html.slice(at + literal.length)}`;
}

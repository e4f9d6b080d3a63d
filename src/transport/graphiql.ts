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

/** yoga's bundled GraphiQL (no CDN: scripts, styles and workers are inlined), signed in over WebSocket too. */
export function renderChatGraphiQL(options?: GraphiQLOptions): string {
  const opts = { ...options, shouldPersistHeaders: true };
  const html = renderGraphiQL(opts);
  const literal = JSON.stringify(opts);
  const at = html.lastIndexOf(literal);
  if (at < 0) return html;
  return `${html.slice(0, at)}Object.assign(${literal}, { connectionParams: ${CONNECTION_PARAMS} })${html.slice(at + literal.length)}`;
}

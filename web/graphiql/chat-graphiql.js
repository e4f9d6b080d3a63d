// GraphiQL's page script, served by the chat server as /graphiql/chat-graphiql.<hash>.js
// ahead of graphql-ws's browser client (the global `graphqlWs`) and yoga's GraphiQL
// (the global `YogaGraphiQL`). It gives GraphiQL a fetcher of its own, so that:
// - the Authorization entered once in any tab's Headers applies to every tab, new
//   ones included, and to the WebSocket of subscriptions (its connection_init);
// - a socket the server refuses shows its close code and reason in the result
//   pane instead of a spinner that retries (4403 and the other 4xxx codes are
//   answers, not outages);
// and a line above the editor says which token every tab sends.
// The page's settings come as JSON (#graphiql-settings): the page runs no inline script.
(function () {
  'use strict';

  var STORAGE_KEY = 'chat-graphiql:authorization';
  var settings = JSON.parse(document.getElementById('graphiql-settings').textContent);

  // Monaco's workers are files of this server, not blobs.
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) {
      return settings.workers[label] || settings.workers.editorWorkerService;
    },
  };

  /** Close codes after which the socket is tried again: the server went away or asked to come back later. */
  var RETRIED = [1001, 1005, 1006, 1011, 1012, 1013, 1014];
  /** The shared token's last refusal by the server ('TOKEN_EXPIRED', 'TOKEN_INVALID', 'Forbidden'), shown until it changes. */
  var refused = null;

  function storedAuthorization() {
    try {
      return localStorage.getItem(STORAGE_KEY);
    } catch {
      return null;
    }
  }

  function store(value) {
    try {
      if (value === null) localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, value);
    } catch {
      // Storage off (a private window's settings): the token lasts as long as the page.
    }
    memory = value;
    refused = null;
    showStatus();
  }
  var memory = storedAuthorization();

  function sharedAuthorization() {
    return storedAuthorization() || memory;
  }

  /** The token's exp claim in ms, or null (not a JWT, or no exp). */
  function expiryOf(authorization) {
    var token = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization || '');
    var payload = token && token[1].split('.')[1];
    if (!payload) return null;
    try {
      var json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
      var exp = JSON.parse(json).exp;
      return typeof exp === 'number' ? exp * 1000 : null;
    } catch {
      return null;
    }
  }

  /** The shared token while it can still be good: an expired one is not sent (the server would refuse the whole request). */
  function usableShared() {
    var shared = sharedAuthorization();
    var expiry = expiryOf(shared);
    return shared && (expiry === null || expiry > Date.now()) ? shared : null;
  }

  /** A tab's own Authorization header (any letter case), or null. */
  function ownAuthorization(headers) {
    for (var name in headers) {
      if (name.toLowerCase() === 'authorization' && typeof headers[name] === 'string' && headers[name].trim()) {
        return { name: name, value: headers[name].trim() };
      }
    }
    return null;
  }

  function operationOf(params, options) {
    var document = options && options.documentAST;
    var definitions = document && document.definitions ? document.definitions : [];
    var operations = definitions.filter(function (d) {
      return d.kind === 'OperationDefinition';
    });
    if (params.operationName) {
      for (var i = 0; i < operations.length; i++) {
        if (operations[i].name && operations[i].name.value === params.operationName) return operations[i].operation;
      }
    }
    if (operations.length === 1) return operations[0].operation;
    return /^\s*subscription\b/m.test(params.query || '') ? 'subscription' : 'query';
  }

  function isIntrospection(params) {
    return params.operationName === 'IntrospectionQuery' || /\b__schema\b/.test(params.query || '');
  }

  /**
   * GraphiQL's fetcher: the tab's own headers, with the shared token when the
   * tab has no Authorization of its own; a tab that has one shares it from
   * then on. The schema's introspection goes without the shared token, so a
   * token the server no longer takes cannot leave GraphiQL without a schema.
   */
  function fetcher(params, options) {
    var headers = Object.assign({}, (options && options.headers) || {});
    var own = ownAuthorization(headers);
    var introspection = isIntrospection(params);
    if (own && !introspection && own.value !== sharedAuthorization()) store(own.value);
    var authorization = own ? own.value : introspection ? null : usableShared();
    if (!own && authorization) headers.Authorization = authorization;
    var payload = { query: params.query, variables: params.variables, operationName: params.operationName };
    if (operationOf(params, options) === 'subscription') return subscription(payload, authorization, !own);
    return fetch(settings.endpoint, {
      method: 'POST',
      credentials: 'same-origin',
      headers: Object.assign(
        { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
        headers,
      ),
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().then(
        function (result) {
          if (!own && authorization) noteRefusal(result);
          return result;
        },
        function () {
          return { errors: [{ message: 'HTTP ' + response.status + ' ' + response.statusText + ': not a GraphQL response' }] };
        },
      );
    });
  }

  /** The shared token refused over HTTP (UNAUTHENTICATED): said on the status line. */
  function noteRefusal(result) {
    var errors = (result && result.errors) || [];
    for (var i = 0; i < errors.length; i++) {
      var extensions = errors[i].extensions || {};
      if (extensions.code === 'UNAUTHENTICATED' && extensions.reason && extensions.reason !== 'TOKEN_MISSING') {
        refused = extensions.reason;
        showStatus();
      }
    }
  }

  var sockets = {};

  /** One graphql-ws client per token (lazy: its socket is open while a subscription runs). */
  function socketFor(authorization) {
    var key = authorization || '';
    if (!sockets[key]) {
      sockets[key] = graphqlWs.createClient({
        url: (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + settings.endpoint,
        connectionParams: authorization ? { authorization: authorization } : {},
        lazy: true,
        retryAttempts: 5,
        shouldRetry: function (event) {
          return !isCloseEvent(event) || RETRIED.indexOf(event.code) >= 0;
        },
      });
    }
    return sockets[key];
  }

  function isCloseEvent(value) {
    return value !== null && typeof value === 'object' && typeof value.code === 'number' && 'reason' in value;
  }

  var HINTS = {
    4403: 'The server refused the token (none, invalid or expired): run Login, put {"Authorization": "Bearer <token>"} in Headers, and run this again.',
    4429: 'Too many sockets or messages: wait a moment and run this again.',
    4401: 'The subscription was sent before the server acknowledged the socket.',
    1013: 'The server asked to come back later.',
  };

  /** What the result pane shows when the subscription's socket closed for good, or its operation failed. */
  function failure(error) {
    if (Array.isArray(error)) return { errors: error };
    if (isCloseEvent(error)) {
      var hint = HINTS[error.code] || 'See the close codes in the contract (chat.graphql).';
      return {
        errors: [
          {
            message:
              'The WebSocket was closed with ' + error.code + (error.reason ? ' "' + error.reason + '"' : '') + '. ' + hint,
            extensions: { closeCode: error.code, closeReason: error.reason || '' },
          },
        ],
      };
    }
    return { errors: [{ message: 'The WebSocket failed: ' + ((error && error.message) || 'no connection to the server') }] };
  }

  /** An Observable GraphiQL subscribes to: results as they come, then a final error result if the socket gives up. */
  function subscription(payload, authorization, shared) {
    return {
      subscribe: function (observer) {
        var done = false;
        var stop = socketFor(authorization).subscribe(payload, {
          next: function (result) {
            if (!done) observer.next(result);
          },
          error: function (error) {
            if (done) return;
            done = true;
            if (shared && isCloseEvent(error) && error.code === 4403) {
              refused = error.reason || 'Forbidden';
              showStatus();
            }
            observer.next(failure(error));
            observer.complete();
          },
          complete: function () {
            if (done) return;
            done = true;
            observer.complete();
          },
        });
        return {
          unsubscribe: function () {
            done = true;
            stop();
          },
        };
      },
    };
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  /** The line above the editor: which token every tab sends, or how to get one. */
  function showStatus() {
    var line = document.getElementById('chat-graphiql-auth');
    if (!line) return;
    var shared = sharedAuthorization();
    line.textContent = '';
    var text;
    if (!shared) {
      text =
        'Not signed in. Run Register or Login, then put {"Authorization": "Bearer <token>"} in Headers: ' +
        'every tab and every subscription will send it.';
    } else {
      var expiry = expiryOf(shared);
      var shown = '…' + shared.slice(-8);
      if (expiry !== null && expiry <= Date.now()) {
        text =
          'The token from Headers (' + shown + ') expired at ' + clock(expiry) + ': run Login and put the new one in Headers.';
      } else if (refused) {
        text =
          'The server refused the token from Headers (' + shown + ', ' + refused + '): run Login and put the new one in Headers.';
      } else {
        text =
          'Every tab and subscription sends the token from Headers (' +
          shown +
          (expiry !== null ? ', until ' + clock(expiry) : '') +
          '); a tab with an Authorization of its own sends that one.';
      }
    }
    line.appendChild(document.createTextNode(text));
    if (shared) {
      var forget = document.createElement('button');
      forget.type = 'button';
      forget.textContent = 'Forget it';
      forget.addEventListener('click', function () {
        store(null);
      });
      line.appendChild(forget);
    }
  }

  function addStyle() {
    var style = document.createElement('style');
    style.textContent =
      'html, body { height: 100%; margin: 0; }' +
      'body { display: flex; flex-direction: column; }' +
      '#root { flex: 1; min-height: 0; }' +
      // GraphiQL's own style makes it the whole viewport (100vh): here it is what the line above leaves.
      '#root .graphiql-container { height: 100%; width: 100%; }' +
      '#chat-graphiql-auth { font: 13px/1.5 system-ui, sans-serif; padding: 4px 12px; background: #f3f4f6; color: #111827;' +
      ' border-bottom: 1px solid #d1d5db; }' +
      '#chat-graphiql-auth button { margin-left: 8px; font: inherit; cursor: pointer; }' +
      '@media (prefers-color-scheme: dark) { #chat-graphiql-auth { background: #111827; color: #e5e7eb; border-color: #374151; } }';
    document.head.appendChild(style);
  }

  function start() {
    addStyle();
    showStatus();
    // Another browser tab of this page signed in or forgot: say so here too.
    window.addEventListener('storage', function (event) {
      if (event.key === STORAGE_KEY) {
        memory = event.newValue;
        refused = null;
        showStatus();
      }
    });
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), Object.assign({}, settings.options, { fetcher: fetcher }));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

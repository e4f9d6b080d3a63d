/**
 * The raw baseline: a plain `ws` server in a process of its own that speaks
 * just enough graphql-transport-ws for the load generator's clients
 * (connection_init -> connection_ack, subscribe, ping), and on command
 * broadcasts `next` frames of a given byte size to every subscription, one
 * frame per message, send time stamped in the body like the server's messages.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serve } from './rpc.js';
import { nowMs, stampedBody } from './stats.js';

const server = http.createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const subscriptions = new Map<WebSocket, Set<string>>();

wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    let message: any;
    try {
      message = JSON.parse((data as Buffer).toString());
    } catch {
      ws.close(4400, 'Invalid message');
      return;
    }
    if (message.type === 'connection_init') ws.send('{"type":"connection_ack"}');
    else if (message.type === 'subscribe') {
      const ids = subscriptions.get(ws) ?? new Set<string>();
      ids.add(String(message.id));
      subscriptions.set(ws, ids);
    } else if (message.type === 'complete') subscriptions.get(ws)?.delete(String(message.id));
    else if (message.type === 'ping') ws.send('{"type":"pong"}');
  });
  ws.on('close', () => subscriptions.delete(ws));
});

/** A `next` frame of exactly `bytes` bytes (when the message fits) carrying seq and a stamped body. */
function frame(id: string, seq: number, bytes: number, sentAt: number): string {
  const shell = (body: string) =>
    `{"id":"${id}","type":"next","payload":{"data":{"messageAdded":{"seq":${seq},"body":"${body}"}}}}`;
  return shell(stampedBody(bytes - shell('').length, sentAt));
}

serve({
  ping: async () => ({ pid: process.pid }),
  listen: () =>
    new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port }))),
  stats: async () => {
    let subs = 0;
    for (const ids of subscriptions.values()) subs += ids.size;
    return { sockets: wss.clients.size, subs };
  },
  /** `count` messages, each sent to every subscription, yielding to I/O between messages. */
  broadcast: async (args: { count: number; frameBytes: number }) => {
    const startedAt = nowMs();
    for (let seq = 1; seq <= args.count; seq++) {
      const sentAt = nowMs();
      const frames = new Map<string, string>();
      for (const [ws, ids] of subscriptions) {
        for (const id of ids) {
          let f = frames.get(id);
          if (f === undefined) frames.set(id, (f = frame(id, seq, args.frameBytes, sentAt)));
          ws.send(f);
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { startedAt, endedAt: nowMs() };
  },
});

/**
 * The webhook receiver of the `webhooks` scenario: a plain node:http server
 * on loopback in a process of its own (so its CPU is measured apart and it
 * shares no event loop with the orchestrator), which verifies every POST's
 * Standard Webhooks signature with the `standardwebhooks` package, answers
 * 204 (400 to a bad signature, 405 to anything but a POST), and keeps per
 * request: the webhook-id, the event type, the message id, the message's
 * createdAt, and the arrival time (taken when the request's headers are
 * parsed, before its body is read). Every webhook-id seen since the start is
 * remembered, so a second delivery of an event is counted whichever phase
 * it falls in.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { serve } from './rpc.js';
import { nowMs, Samples } from './stats.js';

let webhook: Webhook | null = null;

/** Every webhook-id verified so far, with how many times it came. */
const seenIds = new Map<string, number>();
/** Each message id's first arrival (message events), for `waitFor`. */
const firstArrival = new Map<string, number>();
/** Callers of `waitFor`, each with the message ids it still waits for. */
interface Waiter {
  missing: Set<string>;
  done: () => void;
}
const waiters = new Set<Waiter>();

/** What arrived since the last `take`. */
let period = fresh();
function fresh() {
  return {
    webhookIds: [] as string[],
    types: [] as string[],
    messageIds: [] as Array<string | null>,
    arrivedAt: new Samples(),
    /** The message's createdAt (epoch ms) as the body gives it; NaN when it has none. */
    createdAt: new Samples(),
    /** Requests whose webhook-id had been verified before (at any time). */
    duplicates: 0,
    badSignature: 0,
    otherRequests: 0,
    firstArrivedAt: null as number | null,
    lastArrivedAt: null as number | null,
  };
}

const server = http.createServer((req, res) => {
  const arrivedAt = nowMs();
  if (req.method !== 'POST' || !webhook) {
    period.otherRequests++;
    res.writeHead(405).end();
    req.resume();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let event: { type?: string; data?: { message?: { id?: string; createdAt?: string } | null } };
    try {
      event = webhook!.verify(body, req.headers as Record<string, string>) as typeof event;
    } catch {
      period.badSignature++;
      res.writeHead(400).end();
      return;
    }
    res.writeHead(204).end();
    const id = String(req.headers['webhook-id']);
    const times = seenIds.get(id) ?? 0;
    seenIds.set(id, times + 1);
    if (times > 0) period.duplicates++;
    const message = event.data?.message ?? null;
    period.webhookIds.push(id);
    period.types.push(String(event.type));
    period.messageIds.push(message?.id ?? null);
    period.arrivedAt.push(arrivedAt);
    period.createdAt.push(message?.createdAt ? Date.parse(message.createdAt) : NaN);
    period.firstArrivedAt ??= arrivedAt;
    period.lastArrivedAt = arrivedAt;
    if (message?.id && !firstArrival.has(message.id)) {
      firstArrival.set(message.id, arrivedAt);
      for (const waiter of waiters) if (waiter.missing.delete(message.id) && waiter.missing.size === 0) waiter.done();
    }
  });
});
// Each attempt comes on a connection of its own (the worker POSTs without an agent).
server.keepAliveTimeout = 1000;

serve({
  ping: async () => ({ pid: process.pid }),

  listen: (args: { secret: string }) => {
    webhook = new Webhook(args.secret);
    return new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` })),
    );
  },

  /** How many verified requests so far, in all and with distinct webhook-ids. */
  count: async () => ({ received: period.webhookIds.length, distinctEver: seenIds.size, messages: firstArrival.size }),

  /** What arrived since the last take (then forgotten; the webhook-ids seen stay, for duplicates). */
  take: async () => {
    const p = period;
    period = fresh();
    return {
      webhookIds: p.webhookIds,
      types: p.types,
      messageIds: p.messageIds,
      arrivedAt: p.arrivedAt.values(),
      createdAt: p.createdAt.values(),
      duplicates: p.duplicates,
      badSignature: p.badSignature,
      otherRequests: p.otherRequests,
      firstArrivedAt: p.firstArrivedAt,
      lastArrivedAt: p.lastArrivedAt,
    };
  },

  /**
   * Resolves once every one of `ids` (message ids) has arrived, or after
   * `timeoutMs`: whether all did, how many are missing, and the latest
   * first arrival among those that came (the drain's end).
   */
  waitFor: (args: { ids: string[]; timeoutMs: number }) =>
    new Promise((resolve) => {
      const waiter: Waiter = {
        missing: new Set(args.ids.filter((id) => !firstArrival.has(id))),
        done: () => {
          clearTimeout(timer);
          waiters.delete(waiter);
          let last: number | null = null;
          for (const id of args.ids) {
            const at = firstArrival.get(id);
            if (at !== undefined && (last === null || at > last)) last = at;
          }
          resolve({ complete: waiter.missing.size === 0, missing: waiter.missing.size, lastArrivedAt: last, at: nowMs() });
        },
      };
      const timer = setTimeout(() => waiter.done(), args.timeoutMs);
      if (waiter.missing.size === 0) waiter.done();
      else waiters.add(waiter);
    }),
});

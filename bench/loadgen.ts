/**
 * The load generator, a process of its own (forked by run.ts): lean
 * graphql-transport-ws clients on raw `ws` sockets, HTTP senders on keep-alive
 * connections, and the database ceiling loops. The same client code runs
 * against the server under test and the raw baseline server, so the
 * generator's own cost is the same on both sides.
 *
 * Each delivery is parsed without JSON.parse on the hot path (frame id, `seq`
 * and the send time stamped at the start of `body`), checked for duplicates
 * per subscription, and its latency (receive time - stamped send time) kept.
 */
import http from 'node:http';
import postgres from 'postgres';
import { WebSocket, type RawData } from 'ws';
import { progress, serve } from './rpc.js';
import { nowMs, Samples, seededRandom, sleep, stampedBody } from './stats.js';

export interface SubSpec {
  /** Which room's seqs this subscription receives (any key for the raw baseline). */
  room: string;
  query: string;
  variables: Record<string, unknown>;
}
export interface ClientSpec {
  url: string;
  token: string;
  subs: SubSpec[];
}

interface Sub {
  room: string;
  /** Seqs received in the current window. */
  seen: Set<number>;
  /** Received anything at all (a subscription is live once it did). */
  any: boolean;
  /** The server ended it: an `error` or a `complete` frame. */
  ended: string | null;
  spec: SubSpec;
}
interface Client {
  ws: WebSocket;
  subs: Map<string, Sub>;
}

export const SEND_MUTATION = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }';

const clients: Client[] = [];
const closes: Record<string, number> = {};
let errorFrames = 0;
let firstErrorFrame: string | null = null;
let firstFrameBytes: number | null = null;

// The measured window.
let windowFrom: Map<string, number> | null = null;
let latencies = new Samples();
let received = 0;
let duplicates = 0;
let firstRecvAt: number | null = null;
let lastRecvAt: number | null = null;
let collector: { pending: number; resolve: () => void } | null = null;

function onNext(client: Client, id: string, seq: number, sentAt: number, bytes: number): void {
  const recvAt = nowMs();
  firstFrameBytes ??= bytes;
  const sub = client.subs.get(id);
  if (!sub) return;
  sub.any = true;
  if (!windowFrom) return;
  const from = windowFrom.get(sub.room);
  if (from === undefined || seq <= from) return;
  received++;
  firstRecvAt ??= recvAt;
  lastRecvAt = recvAt;
  if (sub.seen.has(seq)) {
    duplicates++;
    return;
  }
  sub.seen.add(seq);
  latencies.push(recvAt - sentAt);
  if (collector && --collector.pending === 0) collector.resolve();
}

/** `{"id":"<id>","type":"next",...}` with `"seq":<n>` and `"body":"t=<ms>;...` somewhere in it; null: parse it fully. */
function fastNext(s: string): { id: string; seq: number; sentAt: number } | null {
  if (!s.startsWith('{"id":"')) return null;
  const idEnd = s.indexOf('"', 7);
  if (idEnd < 0 || !s.startsWith(',"type":"next"', idEnd + 1)) return null;
  const seqAt = s.indexOf('"seq":', idEnd);
  const bodyAt = s.indexOf('"body":"t=', idEnd);
  if (seqAt < 0 || bodyAt < 0) return null;
  const seq = parseInt(s.slice(seqAt + 6, seqAt + 18), 10);
  const sentAt = parseFloat(s.slice(bodyAt + 10, s.indexOf(';', bodyAt)));
  return { id: s.slice(7, idEnd), seq, sentAt };
}

function onFrame(client: Client, data: RawData, onAck: () => void): void {
  const buffer = data as Buffer;
  const s = buffer.toString('latin1');
  const fast = fastNext(s);
  if (fast) {
    onNext(client, fast.id, fast.seq, fast.sentAt, buffer.length);
    return;
  }
  let message: any;
  try {
    message = JSON.parse(buffer.toString('utf8'));
  } catch {
    errorFrames++;
    return;
  }
  switch (message.type) {
    case 'connection_ack':
      onAck();
      break;
    case 'ping':
      client.ws.send('{"type":"pong"}');
      break;
    case 'next': {
      // A next without the stamped body (or with its fields elsewhere): read it the slow way.
      const data = message.payload?.data;
      const value = data ? (Object.values(data)[0] as any) : undefined;
      const msg = value?.message ?? value;
      if (message.payload?.errors || typeof msg?.seq !== 'number') {
        errorFrames++;
        firstErrorFrame ??= s.slice(0, 500);
        return;
      }
      const sentAt = parseFloat(/^t=([\d.]+);/.exec(String(msg.body))?.[1] ?? 'NaN');
      onNext(client, String(message.id), msg.seq, sentAt, buffer.length);
      break;
    }
    case 'error':
      errorFrames++;
      firstErrorFrame ??= s.slice(0, 500);
      markEnded(client, message.id, `error: ${JSON.stringify(message.payload).slice(0, 300)}`);
      break;
    case 'complete':
      markEnded(client, message.id, 'complete');
      break;
    default:
      break;
  }
}

/** Subscriptions the server ended before the measured window, subscribed again (a new id on the same socket). */
let resubscribed = 0;
let firstEndedReason: string | null = null;
/** Subscriptions the server ended during the measured window (not renewed: their missing seqs count as lost). */
let endedInWindow = 0;

function markEnded(client: Client, id: unknown, why: string): void {
  const sub = client.subs.get(String(id));
  if (!sub || sub.ended) return;
  sub.ended = why;
  firstEndedReason ??= why;
  if (windowFrom) {
    endedInWindow++;
    return;
  }
  client.subs.delete(String(id));
  const newId = `${String(id)}r`;
  client.subs.set(newId, { ...sub, ended: null, any: false, seen: new Set() });
  resubscribed++;
  client.ws.send(
    JSON.stringify({ id: newId, type: 'subscribe', payload: { query: sub.spec.query, variables: sub.spec.variables } }),
  );
}

function openClient(spec: ClientSpec, timeoutMs: number): Promise<Client> {
  return new Promise<Client>((resolve, reject) => {
    const ws = new WebSocket(spec.url, 'graphql-transport-ws', {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: timeoutMs,
    });
    const client: Client = { ws, subs: new Map() };
    let acked = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no connection_ack in time'));
    }, timeoutMs);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${spec.token}` } })));
    ws.on('message', (data) =>
      onFrame(client, data, () => {
        acked = true;
        clearTimeout(timer);
        spec.subs.forEach((sub, i) => {
          const id = String(i + 1);
          client.subs.set(id, { room: sub.room, seen: new Set(), any: false, ended: null, spec: sub });
          ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: sub.query, variables: sub.variables } }));
        });
        resolve(client);
      }),
    );
    ws.on('error', (error) => {
      if (!acked) {
        clearTimeout(timer);
        reject(error);
      }
    });
    ws.on('close', (code) => {
      closes[code] = (closes[code] ?? 0) + 1;
      if (!acked) {
        clearTimeout(timer);
        reject(new Error(`closed with ${code} before connection_ack`));
      }
    });
  });
}

// ---------------------------------------------------------------- HTTP

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<any> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          'content-length': Buffer.byteLength(body),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(new Error(`HTTP ${res.statusCode}: unparsable answer`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('HTTP request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** One sendMessage; its seq, or throws with the GraphQL error. `extra`: more input fields; `query`: another selection. */
async function sendMessage(
  url: string,
  token: string,
  room: string,
  bodyBytes: number,
  extra: Record<string, unknown> = {},
  query = SEND_MUTATION,
): Promise<number> {
  const result = await gql(url, query, { i: { roomId: room, body: stampedBody(bodyBytes), ...extra } }, token);
  const seq = result?.data?.sendMessage?.seq;
  if (typeof seq !== 'number') throw new Error(JSON.stringify(result?.errors ?? result).slice(0, 300));
  return seq;
}

/** sendMessage selecting `seq` and the given Message fields (none: SEND_MUTATION). */
const sendMutation = (fields = '') =>
  fields.trim() === '' ? SEND_MUTATION : `mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq ${fields} } }`;

const CREATE_UPLOAD =
  'mutation($i: CreateUploadInput!) { createUpload(input: $i) { id uploadUrl uploadHeaders { name value } } }';

/** A file to attach: its bytes and what createUpload is told about them. */
export interface UploadFile {
  bytes: Uint8Array;
  filename: string;
  contentType: string;
}

/** createUpload, then the PUT of the bytes to uploadUrl with uploadHeaders (on the same keep-alive agent): the upload's id. */
async function upload(url: string, token: string, room: string, file: UploadFile): Promise<string> {
  const result = await gql(
    url,
    CREATE_UPLOAD,
    { i: { roomId: room, filename: file.filename, contentType: file.contentType, size: file.bytes.length } },
    token,
  );
  const target = result?.data?.createUpload as
    { id: string; uploadUrl: string; uploadHeaders: Array<{ name: string; value: string }> } | undefined;
  if (!target) throw new Error(`createUpload: ${JSON.stringify(result?.errors ?? result).slice(0, 300)}`);
  await put(target.uploadUrl, target.uploadHeaders, file.bytes);
  return target.id;
}

function put(url: string, headers: Array<{ name: string; value: string }>, body: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'PUT',
        agent,
        headers: { ...Object.fromEntries(headers.map((h) => [h.name, h.value])), 'content-length': body.length },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) resolve();
          else reject(new Error(`PUT answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('PUT timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

interface LoopResult {
  ok: number;
  errors: number;
  errorSamples: string[];
  latencies: Float64Array;
  startedAt: number;
  endedAt: number;
}

/**
 * `count` closed loops, each awaiting its previous call, until the deadline.
 * A body that answers false has nothing left to do: its loop stops there (not counted).
 */
async function closedLoops(
  count: number,
  durationMs: number,
  body: (loop: number) => Promise<void | boolean>,
): Promise<LoopResult> {
  const samples = new Samples();
  const errorSamples: string[] = [];
  let ok = 0;
  let errors = 0;
  const startedAt = nowMs();
  const deadline = startedAt + durationMs;
  let lastReport = startedAt;
  await Promise.all(
    Array.from({ length: count }, async (_, loop) => {
      while (nowMs() < deadline) {
        const t0 = nowMs();
        try {
          if ((await body(loop)) === false) break;
          ok++;
          samples.push(nowMs() - t0);
        } catch (error) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(String((error as Error).message ?? error).slice(0, 300));
        }
        if (loop === 0 && nowMs() - lastReport > 2000) {
          lastReport = nowMs();
          progress(`${ok} done, ${errors} errors, ${((lastReport - startedAt) / 1000).toFixed(0)}/${durationMs / 1000} s`);
        }
      }
    }),
  );
  return { ok, errors, errorSamples, latencies: samples.values(), startedAt, endedAt: nowMs() };
}

// ---------------------------------------------------------------- commands

serve({
  ping: async () => ({ pid: process.pid }),

  /** Opens the sockets, `concurrency` handshakes at a time; each is acked and has sent its subscribes. */
  async connect(args: { clients: ClientSpec[]; concurrency: number; timeoutMs: number; label: string }) {
    let next = 0;
    let opened = 0;
    const failures: string[] = [];
    let lastReport = nowMs();
    await Promise.all(
      Array.from({ length: Math.min(args.concurrency, args.clients.length) }, async () => {
        while (next < args.clients.length) {
          const spec = args.clients[next++]!;
          try {
            clients.push(await openClient(spec, args.timeoutMs));
            opened++;
          } catch (error) {
            if (failures.length < 5) failures.push((error as Error).message);
          }
          if (nowMs() - lastReport > 1000) {
            lastReport = nowMs();
            progress(`${args.label}: ${opened}/${args.clients.length} sockets acked`);
          }
        }
      }),
    );
    return { opened, failed: args.clients.length - opened, failures };
  },

  /** How many subscriptions received something; which rooms have some that did not; which the server ended. */
  async live() {
    let subs = 0;
    let live = 0;
    let ended = 0;
    let firstEnded: string | null = null;
    const waiting: Record<string, number> = {};
    for (const c of clients)
      for (const s of c.subs.values()) {
        subs++;
        if (s.any) live++;
        else waiting[s.room] = (waiting[s.room] ?? 0) + 1;
        if (s.ended) {
          ended++;
          firstEnded ??= s.ended;
        }
      }
    let open = 0;
    for (const c of clients) if (c.ws.readyState === WebSocket.OPEN) open++;
    return {
      subs,
      live,
      ended,
      firstEnded: firstEnded ?? firstEndedReason,
      resubscribed,
      waiting,
      sockets: clients.length,
      open,
    };
  },

  /** Starts the measured window: only seqs above `from` of each room count from now on. */
  async window(args: { from: Record<string, number> }) {
    windowFrom = new Map(Object.entries(args.from));
    latencies = new Samples();
    received = 0;
    duplicates = 0;
    firstRecvAt = null;
    lastRecvAt = null;
    errorFrames = 0;
    endedInWindow = 0;
    for (const c of clients) for (const s of c.subs.values()) s.seen = new Set();
    return {};
  },

  /**
   * Waits until every subscription has every seq in (from, to] of its room,
   * or until nothing arrived for quietMs, or timeoutMs; then the figures.
   */
  async collect(args: { to: Record<string, number>; timeoutMs: number; quietMs: number }) {
    const from = windowFrom ?? new Map<string, number>();
    const expectedOf = (room: string) => Math.max(0, (args.to[room] ?? from.get(room) ?? 0) - (from.get(room) ?? 0));
    const pendingNow = () => {
      let pending = 0;
      for (const c of clients) for (const s of c.subs.values()) pending += Math.max(0, expectedOf(s.room) - s.seen.size);
      return pending;
    };
    const started = nowMs();
    const pending = pendingNow();
    if (pending > 0) {
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearInterval(timer);
          resolve();
        };
        const timer = setInterval(() => {
          const quietFor = nowMs() - (lastRecvAt ?? started);
          if (nowMs() - started > args.timeoutMs || quietFor > args.quietMs) finish();
        }, 50);
        collector = { pending, resolve: finish };
      });
      collector = null;
    }
    let expected = 0;
    let distinct = 0;
    let subs = 0;
    for (const c of clients)
      for (const s of c.subs.values()) {
        subs++;
        expected += expectedOf(s.room);
        distinct += s.seen.size;
      }
    const result = {
      subs,
      expected,
      distinct,
      lost: expected - distinct,
      duplicates,
      received,
      latencies: latencies.values(),
      firstRecvAt,
      lastRecvAt,
      closes: { ...closes },
      errorFrames,
      firstErrorFrame,
      resubscribed,
      endedInWindow,
      firstEndedReason,
    };
    windowFrom = null;
    return result;
  },

  async frameBytes() {
    return { bytes: firstFrameBytes };
  },

  async closeAll() {
    await Promise.all(
      clients.splice(0).map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.ws.readyState === WebSocket.CLOSED) return resolve();
            c.ws.once('close', () => resolve());
            c.ws.close(1000);
            setTimeout(() => {
              c.ws.terminate();
              resolve();
            }, 3000).unref();
          }),
      ),
    );
    for (const k of Object.keys(closes)) delete closes[k];
    firstFrameBytes = null;
    resubscribed = 0;
    firstEndedReason = null;
    return {};
  },

  /** Each send once, `concurrency` at a time: the seq of each (null for a failure). */
  async sendEach(args: { url: string; sends: Array<{ token: string; room: string }>; bodyBytes: number; concurrency: number }) {
    const seqs: Array<number | null> = new Array<number | null>(args.sends.length).fill(null);
    const errorSamples: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(args.concurrency, args.sends.length) }, async () => {
        while (next < args.sends.length) {
          const i = next++;
          const s = args.sends[i]!;
          try {
            seqs[i] = await sendMessage(args.url, s.token, s.room, args.bodyBytes);
          } catch (error) {
            if (errorSamples.length < 5) errorSamples.push((error as Error).message);
          }
        }
      }),
    );
    return { seqs, errorSamples };
  },

  /** count sends into one room as fast as `concurrency` senders go (each awaits its previous send). */
  async sendBurst(args: { url: string; token: string; room: string; count: number; concurrency: number; bodyBytes: number }) {
    let next = 0;
    let maxSeq = 0;
    let errors = 0;
    const errorSamples: string[] = [];
    const firstSendAt = nowMs();
    let lastReport = firstSendAt;
    await Promise.all(
      Array.from({ length: args.concurrency }, async () => {
        while (next < args.count) {
          next++;
          try {
            maxSeq = Math.max(maxSeq, await sendMessage(args.url, args.token, args.room, args.bodyBytes));
          } catch (error) {
            errors++;
            if (errorSamples.length < 5) errorSamples.push((error as Error).message);
          }
          if (nowMs() - lastReport > 1000) {
            lastReport = nowMs();
            progress(`sent ${next}/${args.count}`);
          }
        }
      }),
    );
    return { firstSendAt, lastSendAt: nowMs(), maxSeq, errors, errorSamples };
  },

  /**
   * Open loop at a steady total rate: every 2 ms, the sends due by then are
   * issued to random rooms by random members (seeded). A send that would pass
   * maxInFlight is skipped and counted (the server fell behind).
   */
  async sendRate(args: {
    url: string;
    rooms: Array<{ room: string; tokens: string[] }>;
    rate: number;
    durationMs: number;
    bodyBytes: number;
    maxInFlight: number;
    seed: number;
  }) {
    const random = seededRandom(args.seed);
    const maxSeq: Record<string, number> = {};
    const sendLatencies = new Samples();
    const errorSamples: string[] = [];
    let issued = 0;
    let skipped = 0;
    let ok = 0;
    let errors = 0;
    let inFlight = 0;
    const inFlightPromises = new Set<Promise<void>>();
    const startedAt = nowMs();
    let lastReport = startedAt;
    while (nowMs() - startedAt < args.durationMs) {
      const due = Math.floor((args.rate * (nowMs() - startedAt)) / 1000);
      while (issued < due) {
        issued++;
        if (inFlight >= args.maxInFlight) {
          skipped++;
          continue;
        }
        const room = args.rooms[Math.floor(random() * args.rooms.length)]!;
        const token = room.tokens[Math.floor(random() * room.tokens.length)]!;
        inFlight++;
        const t0 = nowMs();
        const p: Promise<void> = sendMessage(args.url, token, room.room, args.bodyBytes).then(
          (seq) => {
            ok++;
            sendLatencies.push(nowMs() - t0);
            maxSeq[room.room] = Math.max(maxSeq[room.room] ?? 0, seq);
          },
          (error: Error) => {
            errors++;
            if (errorSamples.length < 5) errorSamples.push(error.message);
          },
        );
        inFlightPromises.add(p);
        void p.finally(() => {
          inFlight--;
          inFlightPromises.delete(p);
        });
      }
      if (nowMs() - lastReport > 2000) {
        lastReport = nowMs();
        progress(
          `rooms: ${ok} sent, ${inFlight} in flight, ${((lastReport - startedAt) / 1000).toFixed(0)}/${args.durationMs / 1000} s`,
        );
      }
      await sleep(2);
    }
    const sendingEndedAt = nowMs();
    await Promise.all([...inFlightPromises]);
    return {
      startedAt,
      sendingEndedAt,
      issued,
      skipped,
      ok,
      errors,
      errorSamples,
      maxSeq,
      sendLatencies: sendLatencies.values(),
    };
  },

  /** Closed loops of sendMessage over HTTP keep-alive, one per sender; `fields`: Message fields selected beside seq. */
  async sendLoops(args: {
    url: string;
    senders: Array<{ token: string; room: string }>;
    durationMs: number;
    bodyBytes: number;
    fields?: string;
  }) {
    const query = sendMutation(args.fields);
    return closedLoops(args.senders.length, args.durationMs, async (loop) => {
      const s = args.senders[loop]!;
      await sendMessage(args.url, s.token, s.room, args.bodyBytes, {}, query);
    });
  },

  /**
   * sendMessage selecting the message's id, each sender to its own `url` (instances may differ), with every
   * answered send's id, request start and answer time (epoch ms): `closed`, closed loops for `durationMs`;
   * `paced`, `count` sends issued at `rate` per second whatever the answers (open loop), sender i % senders.
   */
  async timedSends(args: {
    senders: Array<{ url: string; token: string; room: string }>;
    mode: 'closed' | 'paced';
    durationMs?: number;
    count?: number;
    rate?: number;
    bodyBytes: number;
  }) {
    const query = sendMutation('id');
    const ids: string[] = [];
    const sentAt = new Samples();
    const answeredAt = new Samples();
    const send = async (loop: number) => {
      const s = args.senders[loop % args.senders.length]!;
      const t0 = nowMs();
      const result = await gql(s.url, query, { i: { roomId: s.room, body: stampedBody(args.bodyBytes, t0) } }, s.token);
      const t1 = nowMs();
      const id = result?.data?.sendMessage?.id;
      if (typeof id !== 'string') throw new Error(JSON.stringify(result?.errors ?? result).slice(0, 300));
      ids.push(id);
      sentAt.push(t0);
      answeredAt.push(t1);
    };
    const done = (r: LoopResult) => ({ ...r, ids, sentAt: sentAt.values(), answeredAt: answeredAt.values() });
    if (args.mode === 'closed') return done(await closedLoops(args.senders.length, args.durationMs!, send));
    const count = args.count!;
    const startedAt = nowMs();
    const samples = new Samples();
    const errorSamples: string[] = [];
    let errors = 0;
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      const due = startedAt + (i * 1000) / args.rate!;
      const wait = due - nowMs();
      if (wait > 0) await sleep(wait);
      const t0 = nowMs();
      inFlight.push(
        send(i).then(
          () => samples.push(nowMs() - t0),
          (error: Error) => {
            errors++;
            if (errorSamples.length < 5) errorSamples.push(String(error.message ?? error).slice(0, 300));
          },
        ),
      );
    }
    await Promise.all(inFlight);
    return done({ ok: samples.length, errors, errorSamples, latencies: samples.values(), startedAt, endedAt: nowMs() });
  },

  /**
   * For each sender, `perSender` uploads of the file (createUpload, then the PUT), one at a time per
   * sender: the ids of those that succeeded, per sender, in order (a failed one is not tried again).
   */
  async prepareUploads(args: {
    url: string;
    senders: Array<{ token: string; room: string }>;
    perSender: number;
    file: UploadFile;
  }) {
    const ids: string[][] = args.senders.map(() => []);
    const attempts = args.senders.map(() => 0);
    const file = { ...args.file, bytes: Buffer.from(args.file.bytes) };
    const result = await closedLoops(args.senders.length, 24 * 3600 * 1000, async (loop) => {
      // A failed upload is not tried again: the sender ends with fewer ids, and the errors say why.
      if (attempts[loop]!++ >= args.perSender) return false;
      const s = args.senders[loop]!;
      ids[loop]!.push(await upload(args.url, s.token, s.room, file));
    });
    return { ...result, ids };
  },

  /**
   * Closed loops of sendMessage, each with one of its sender's prepared uploads attached. A sender
   * whose uploads are used up stops; `ranOut` counts them.
   */
  async attachLoops(args: {
    url: string;
    senders: Array<{ token: string; room: string; uploadIds: string[] }>;
    durationMs: number;
    bodyBytes: number;
    fields?: string;
  }) {
    const query = sendMutation(args.fields);
    const next = args.senders.map(() => 0);
    let ranOut = 0;
    const result = await closedLoops(args.senders.length, args.durationMs, async (loop) => {
      const s = args.senders[loop]!;
      const id = s.uploadIds[next[loop]!++];
      if (id === undefined) {
        ranOut++;
        return false;
      }
      await sendMessage(args.url, s.token, s.room, args.bodyBytes, { attachmentIds: [id] }, query);
    });
    return { ...result, ranOut, used: next.reduce((n, k, i) => n + Math.min(k, args.senders[i]!.uploadIds.length), 0) };
  },

  /** Closed loops of the whole flow: createUpload, the PUT, then sendMessage with that upload attached. */
  async uploadSendLoops(args: {
    url: string;
    senders: Array<{ token: string; room: string }>;
    durationMs: number;
    bodyBytes: number;
    file: UploadFile;
    fields?: string;
  }) {
    const query = sendMutation(args.fields);
    const file = { ...args.file, bytes: Buffer.from(args.file.bytes) };
    const sendLatencies = new Samples();
    const result = await closedLoops(args.senders.length, args.durationMs, async (loop) => {
      const s = args.senders[loop]!;
      const id = await upload(args.url, s.token, s.room, file);
      const t0 = nowMs();
      await sendMessage(args.url, s.token, s.room, args.bodyBytes, { attachmentIds: [id] }, query);
      sendLatencies.push(nowMs() - t0);
    });
    return { ...result, sendLatencies: sendLatencies.values() };
  },

  /** The database ceiling: the one bump-and-insert statement from closed loops over a postgres.js pool. */
  async ceiling(args: {
    dbUrl: string;
    pool: number;
    loops: Array<{ room: string; user: string }>;
    durationMs: number;
    bodyBytes: number;
  }) {
    const sql = postgres(args.dbUrl, { max: args.pool, onnotice: () => {}, fetch_types: false });
    try {
      await sql`select 1`;
      return await closedLoops(args.loops.length, args.durationMs, async (loop) => {
        const { room, user } = args.loops[loop]!;
        const body = stampedBody(args.bodyBytes);
        const rows = await sql`
          with bumped as (
            update rooms set last_seq = last_seq + 1, last_activity_at = now()
            where id = ${room} and exists (select 1 from memberships where room_id = ${room} and user_id = ${user})
            returning last_seq
          ), mark_read as (
            update memberships set last_read_seq = greatest(last_read_seq, (select last_seq from bumped))
            where room_id = ${room} and user_id = ${user}
            returning user_id
          )
          insert into messages (id, room_id, seq, author_id, body, client_id, reply_to_id, created_at, edited_at, deleted_at)
          select gen_random_uuid(), ${room}::uuid, bumped.last_seq, ${user}::uuid, ${body}::text, null::text, null::uuid, now(),
                 null::timestamptz, null::timestamptz
          from bumped
          returning id, room_id, seq, author_id, body, client_id, reply_to_id, created_at, edited_at, deleted_at`;
        if (rows.length !== 1) throw new Error('the statement inserted no row');
      });
    } finally {
      await sql.end({ timeout: 2 });
    }
  },

  /** Sequential history requests: `last: pageSize` repeated, then a walk of `before` pages from the newest. */
  async history(args: { url: string; token: string; room: string; requests: number; pages: number; pageSize: number }) {
    const query = `query($r: ID!, $n: Int!, $before: String) {
      messages(roomId: $r, last: $n, before: $before) {
        edges { cursor node { id seq body createdAt author { id username } } }
        pageInfo { hasPreviousPage startCursor }
      }
    }`;
    const fetchPage = async (before: string | null) => {
      const result = await gql(args.url, query, { r: args.room, n: args.pageSize, before }, args.token);
      const page = result?.data?.messages;
      if (!page) throw new Error(JSON.stringify(result?.errors ?? result).slice(0, 300));
      return page as {
        edges: Array<{ node: { seq: number } }>;
        pageInfo: { hasPreviousPage: boolean; startCursor: string | null };
      };
    };
    const last = new Samples();
    const walk = new Samples();
    let wrongPages = 0;
    for (let i = 0; i < args.requests; i++) {
      const t0 = nowMs();
      const page = await fetchPage(null);
      last.push(nowMs() - t0);
      if (page.edges.length !== args.pageSize) wrongPages++;
      if (i % 100 === 99) progress(`history: ${i + 1}/${args.requests} newest pages`);
    }
    let before: string | null = null;
    let expectTop: number | null = null;
    let walked = 0;
    for (let i = 0; i < args.pages; i++) {
      const t0 = nowMs();
      const page = await fetchPage(before);
      walk.push(nowMs() - t0);
      walked++;
      const seqs = page.edges.map((e) => e.node.seq);
      // Pages are oldest first, contiguous, and each ends just below the previous one's start.
      const contiguous = seqs.every((s, k) => k === 0 || s === seqs[k - 1]! + 1);
      if (!contiguous || (expectTop !== null && seqs.at(-1) !== expectTop)) wrongPages++;
      expectTop = (seqs[0] ?? 1) - 1;
      if (i % 50 === 49) progress(`history: ${i + 1}/${args.pages} pages walked`);
      if (!page.pageInfo.hasPreviousPage || !page.pageInfo.startCursor) break;
      before = page.pageInfo.startCursor;
    }
    return { last: last.values(), walk: walk.values(), walked, wrongPages, lowestSeq: expectTop === null ? null : expectTop + 1 };
  },

  /**
   * Sequential `myRooms` requests (the query as given). An answer is wrong when it has errors or not
   * `expected.length` rooms; it is mismatched when it has them but some room's order, read position,
   * unread count or newest message differs from what was seeded.
   */
  async unread(args: {
    url: string;
    token: string;
    query: string;
    requests: number;
    expected: Array<{
      id: string;
      lastReadSeq: number;
      unreadCount: number;
      unreadMentionCount: number;
      lastMessage: { id: string; seq: number } | null;
    }>;
  }) {
    const latencies = new Samples();
    let errors = 0;
    let wrongRoomCount = 0;
    let mismatched = 0;
    const samples: string[] = [];
    const sample = (text: string) => void (samples.length < 5 && samples.push(text.slice(0, 300)));
    for (let i = 0; i < args.requests; i++) {
      const t0 = nowMs();
      const result = await gql(args.url, args.query, {}, args.token);
      latencies.push(nowMs() - t0);
      const rooms = result?.data?.myRooms as
        | Array<{
            id: string;
            lastReadSeq: number;
            unreadCount: number;
            unreadMentionCount: number;
            lastMessage: { id: string; seq: number } | null;
          }>
        | undefined;
      if (result?.errors || !Array.isArray(rooms)) {
        errors++;
        sample(JSON.stringify(result?.errors ?? result));
      } else if (rooms.length !== args.expected.length) {
        wrongRoomCount++;
        sample(`${rooms.length} rooms, not ${args.expected.length}`);
      } else {
        const differs = rooms.findIndex((room, k) => {
          const want = args.expected[k]!;
          return (
            room.id !== want.id ||
            room.lastReadSeq !== want.lastReadSeq ||
            room.unreadCount !== want.unreadCount ||
            room.unreadMentionCount !== want.unreadMentionCount ||
            room.lastMessage?.id !== want.lastMessage?.id ||
            room.lastMessage?.seq !== want.lastMessage?.seq
          );
        });
        if (differs >= 0) {
          mismatched++;
          sample(`room ${differs}: got ${JSON.stringify(rooms[differs])}, seeded ${JSON.stringify(args.expected[differs])}`);
        }
      }
      if (i % 100 === 99) progress(`unread: ${i + 1}/${args.requests} requests`);
    }
    return { latencies: latencies.values(), errors, wrongRoomCount, mismatched, samples };
  },
});

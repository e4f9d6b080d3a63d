/**
 * webhooks: the transactional outbox's webhook deliveries (README
 * "Webhooks"), to a receiver of the bench's own: a node:http server on
 * loopback in a process of its own (webhook-receiver.ts) that verifies each
 * POST's signature with `standardwebhooks` and keeps its arrival time by
 * webhook-id and message id. Senders are closed loops over HTTP keep-alive,
 * each its own user and room (so every send records one `message.sent`).
 *
 * - off: sends/s with WEBHOOK_URLS unset (the baseline of the ratios);
 * - on: the same closed loops as off, with webhooks; deliveries/s while
 *   sending, the backlog when the senders stop and the time to drain it;
 * - latency: then, on the same (warm) server, N sends paced at a steady rate
 *   well under capacity, each send's webhook arrival against its commit;
 * - two instances (Postgres only): the same on two instances sharing the
 *   database, senders alternating between them, both workers claiming; every
 *   webhook-id counted, duplicates reported;
 * - record only: WEBHOOK_WORKER=false, events recorded and never delivered,
 *   which splits on's cost into recording and delivering (run last: its
 *   undelivered rows would burst into the next phase).
 *
 * Each phase starts a fresh server (WEBHOOK_* is read at start-up) on the
 * same database; each window has a warm-up whose deliveries drain first.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { roomId, seedRooms, seedUsers, tokensFor } from '../db.js';
import { Generators, JWT_SECRET, log, startChild, startServer, type ServerProc, type Window } from '../harness.js';
import type { Child } from '../rpc.js';
import { percentiles, sleep } from '../stats.js';
import { backend, fmtInt, fmtLatency, fmtNum, Meter, num, ratio, recordLoad, remaining, type Ctx } from './common.js';

interface TimedSends {
  ok: number;
  errors: number;
  errorSamples: string[];
  latencies: Float64Array;
  startedAt: number;
  endedAt: number;
  ids: string[];
  sentAt: Float64Array;
  answeredAt: Float64Array;
}

interface Arrivals {
  webhookIds: string[];
  types: string[];
  messageIds: Array<string | null>;
  arrivedAt: Float64Array;
  createdAt: Float64Array;
  duplicates: number;
  badSignature: number;
  otherRequests: number;
  firstArrivedAt: number | null;
  lastArrivedAt: number | null;
}

interface Drain {
  complete: boolean;
  missing: number;
  lastArrivedAt: number | null;
  at: number;
}

/** Nearest-rank quantiles (p50, p90, p99 and max, with the rest of `percentiles`). */
function quantiles(values: Float64Array) {
  const base = percentiles(values);
  if (values.length === 0) return { ...base, p90: null };
  const sorted = Float64Array.from(values).sort();
  const p90 = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.9 * sorted.length) - 1))]!;
  return { ...base, p90: Math.round(p90 * 1000) / 1000 };
}
type Quantiles = ReturnType<typeof quantiles>;
const fmtQ = (q: Quantiles) =>
  q.count === 0 ? 'n/a' : `${fmtNum(q.p50)} / ${fmtNum(q.p90)} / ${fmtNum(q.p99)} / ${fmtNum(q.max)} ms`;

/** A counter or gauge of the instance's /metrics (loopback, no token), summed over its label sets; null if absent. */
async function scrape(server: ServerProc, name: string, labels = ''): Promise<number | null> {
  const text = await new Promise<string>((resolve, reject) => {
    http
      .get(server.url.replace(/\/graphql$/, '/metrics'), { timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c)).on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !(line[name.length] === ' ' || line[name.length] === '{')) continue;
    if (labels && !line.includes(labels)) continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
const delivered = (s: ServerProc) => scrape(s, 'chat_webhook_attempts_total', 'outcome="delivered"');
/**
 * Each instance's delivered count once it stops moving: an attempt is
 * counted when its row is settled, after the receiver has it, so right after
 * the last arrival a pass may still be settling (read until two readings
 * 150 ms apart agree, at most 3 s).
 */
async function settledDelivered(servers: ServerProc[]): Promise<Array<number | null>> {
  let last = await Promise.all(servers.map(delivered));
  for (let i = 0; i < 20; i++) {
    await sleep(150);
    const now = await Promise.all(servers.map(delivered));
    if (now.every((n, k) => n === last[k])) return now;
    last = now;
  }
  return last;
}
const pending = (s: ServerProc) => scrape(s, 'chat_webhook_deliveries_pending');

/**
 * Each sent message's webhook against its send: arrival − answer (the send
 * answered after its commit, so this never overstates the commit-to-POST
 * time), arrival − createdAt (the transaction's now(), before its commit:
 * never understates it) and arrival − request start.
 */
function latencyOf(sent: TimedSends, got: Arrivals) {
  const first = new Map<string, { arrivedAt: number; createdAt: number }>();
  for (let i = 0; i < got.messageIds.length; i++) {
    const id = got.messageIds[i];
    if (id && !first.has(id)) first.set(id, { arrivedAt: got.arrivedAt[i]!, createdAt: got.createdAt[i]! });
  }
  const fromAnswer: number[] = [];
  const fromCreatedAt: number[] = [];
  const fromRequest: number[] = [];
  const answerToCreated: number[] = [];
  let lost = 0;
  let beforeAnswer = 0;
  for (let j = 0; j < sent.ids.length; j++) {
    const arrival = first.get(sent.ids[j]!);
    if (!arrival) {
      lost++;
      continue;
    }
    const a = arrival.arrivedAt - sent.answeredAt[j]!;
    if (a < 0) beforeAnswer++;
    fromAnswer.push(a);
    fromRequest.push(arrival.arrivedAt - sent.sentAt[j]!);
    if (Number.isFinite(arrival.createdAt)) {
      fromCreatedAt.push(arrival.arrivedAt - arrival.createdAt);
      answerToCreated.push(sent.answeredAt[j]! - arrival.createdAt);
    }
  }
  return {
    fromAnswer: quantiles(Float64Array.from(fromAnswer)),
    fromCreatedAt: quantiles(Float64Array.from(fromCreatedAt)),
    fromRequest: quantiles(Float64Array.from(fromRequest)),
    createdToAnswer: quantiles(Float64Array.from(answerToCreated)),
    lost,
    beforeAnswer,
    arrivals: first,
  };
}

export async function runWebhooks(ctx: Ctx): Promise<void> {
  const senders = num(ctx, 'senders');
  const durationMs = num(ctx, 'duration') * 1000;
  const warmupMs = num(ctx, 'warmup') * 1000;
  const paced = num(ctx, 'messages');
  const givenRate = num(ctx, 'rate');
  const drainMs = num(ctx, 'drain') * 1000;
  const bodyBytes = num(ctx, 'body-bytes');
  const r = ctx.report;

  const b = await backend(ctx);
  const users = await seedUsers(b.db, senders);
  await seedRooms(
    b.db,
    users.map((u, i) => ({ id: roomId(i + 1), members: [u] })),
  );
  const tokens = await tokensFor(users, JWT_SECRET);
  await b.db.release();

  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const receiver: Child = await startChild('receiver', 'webhook-receiver.ts');
  const { url: hookUrl } = await receiver.call<{ url: string }>('listen', { secret }, 10_000);
  const webhookEnv = { WEBHOOK_URLS: hookUrl, WEBHOOK_SECRET: secret, WEBHOOK_ALLOW_PRIVATE: 'true' };
  const gens = await Generators.start(1);
  const pollMs = Number(b.serverEnv().WEBHOOK_POLL_MS ?? 1000);
  r.set('setup', 'webhooks', { endpoint: hookUrl, pollMs, senders, bodyBytes });
  r.row('setup', 'senders', `${senders} closed loops, each its own user and room; one message.sent per send`);
  r.row('setup', 'receiver', `node:http on loopback, own process, signatures verified (standardwebhooks), 204`);

  const take = () => receiver.call<Arrivals>('take', {}, 30_000);
  const waitFor = (ids: string[], timeoutMs: number) => receiver.call<Drain>('waitFor', { ids, timeoutMs }, timeoutMs + 10_000);
  const list = (servers: ServerProc[]) =>
    users.map((_, i) => ({ url: servers[i % servers.length]!.url, token: tokens[i]!, room: roomId(i + 1) }));
  const sends = (servers: ServerProc[], args: Record<string, unknown>) =>
    gens.first.call<TimedSends>('timedSends', { senders: list(servers), bodyBytes, ...args }, remaining(ctx));
  const meterOf = (servers: ServerProc[]) =>
    new Meter({ ...Object.fromEntries(servers.map((s) => [s.name, s.pid])), ...gens.pids(), receiver: receiver.pid });
  const serverCpu = (w: Window, servers: ServerProc[]) => servers.reduce((n, s) => n + w.cpuMs[s.name]!, 0);
  const cpuLine = (w: Window, servers: ServerProc[]) =>
    `${servers.map((s) => `${fmtNum(w.cpuPercent[s.name], 0)} %`).join(' + ')} / ${fmtNum(w.cpuPercent['loadgen-0'], 0)} % / ` +
    `${fmtNum(w.cpuPercent.receiver, 0)} %, ${fmtNum(w.otherCores)}`;

  /** A warm-up of closed loops; with webhooks, until its deliveries have arrived (then forgotten). */
  const warmUp = async (label: string, servers: ServerProc[], webhooks: boolean) => {
    log(`${label}: warm-up ${warmupMs / 1000} s`);
    const warm = await sends(servers, { mode: 'closed', durationMs: warmupMs });
    if (warm.errorSamples.length) r.note(`${label} warm-up: ${warm.errorSamples.join('; ')}`);
    if (!webhooks) return;
    const drained = await waitFor(warm.ids, Math.min(drainMs, remaining(ctx)));
    if (!drained.complete) r.note(`${label} warm-up: ${drained.missing} of ${warm.ids.length} webhooks had not arrived`);
    await take();
  };

  /** Closed loops for --duration; with webhooks, then the drain of what they left behind. */
  const window = async (part: string, servers: ServerProc[], webhooks: boolean) => {
    recordLoad(ctx, part);
    log(`${part}: ${senders} senders for ${durationMs / 1000} s`);
    const meter = meterOf(servers);
    const deliveredBefore = webhooks ? await settledDelivered(servers) : [];
    meter.begin();
    const res = await sends(servers, { mode: 'closed', durationMs });
    const w = meter.end();
    const seconds = (res.endedAt - res.startedAt) / 1000;
    const perSec = res.ok / seconds;
    const latency = percentiles(res.latencies);
    const cpuUsPerSend = res.ok ? (serverCpu(w, servers) * 1000) / res.ok : null;
    r.row(part, 'sends/s', `${fmtInt(perSec)} (${fmtInt(res.ok)} in ${fmtNum(seconds, 1)} s)`);
    r.row(part, 'send latency p50 / p95 / p99', fmtLatency(latency));
    r.row(part, 'errors', fmtInt(res.errors));
    r.row(part, 'server CPU per send (the window)', `${fmtNum(cpuUsPerSend, 0)} µs`);
    r.row(part, 'server / generator / receiver CPU, other busy cores', cpuLine(w, servers));
    if (res.errorSamples.length) r.note(`${part}: ${res.errorSamples.join('; ')}`);
    const figures: Record<string, unknown> = {
      ok: res.ok,
      errors: res.errors,
      errorSamples: res.errorSamples,
      seconds,
      startedAt: res.startedAt,
      endedAt: res.endedAt,
      perSec,
      latency,
      cpuUsPerSend,
      window: w,
    };
    r.set(part, 'figures', figures);
    if (!webhooks) return { perSec, cpuUsPerSend };

    // The backlog as the database has it right after the senders stopped (claimed rows included).
    const pendingAtStop = await pending(servers[0]!).catch(() => null);
    log(`${part}: senders stopped; waiting up to ${drainMs / 1000} s for the webhooks`);
    const drained = await waitFor(res.ids, Math.min(drainMs, remaining(ctx)));
    const wTotal = meter.end();
    const deliveredAfter = await settledDelivered(servers);
    const got = await take();
    const lat = latencyOf(res, got);
    let inWindow = 0;
    let atStop = 0;
    for (const id of res.ids) {
      const a = lat.arrivals.get(id);
      if (a && a.arrivedAt <= res.endedAt) atStop++;
    }
    for (const at of got.arrivedAt) if (at >= res.startedAt && at <= res.endedAt) inWindow++;
    const backlog = res.ok - atStop;
    const drainS = drained.lastArrivedAt !== null && backlog > 0 ? (drained.lastArrivedAt - res.endedAt) / 1000 : 0;
    const allS = drained.lastArrivedAt !== null ? (drained.lastArrivedAt - res.startedAt) / 1000 : null;
    const perInstance = servers.map((s, i) =>
      deliveredAfter[i] !== null && deliveredBefore[i] !== null ? deliveredAfter[i]! - deliveredBefore[i]! : null,
    );
    const cpuUsWithDelivery = res.ok ? (serverCpu(wTotal, servers) * 1000) / res.ok : null;
    Object.assign(figures, {
      deliveriesInWindow: inWindow,
      deliveriesPerSecInWindow: inWindow / seconds,
      deliveredBySendersStop: atStop,
      backlogAtStop: backlog,
      pendingInDatabaseAtStop: pendingAtStop,
      drain: { ...drained, seconds: drainS, perSec: drainS > 0 ? backlog / drainS : null },
      deliveriesPerSecOverall: allS ? (res.ok - drained.missing) / allS : null,
      deliveredPerInstance: perInstance,
      received: got.webhookIds.length,
      duplicates: got.duplicates,
      badSignature: got.badSignature,
      lost: lat.lost,
      latency: {
        fromAnswer: lat.fromAnswer,
        fromCreatedAt: lat.fromCreatedAt,
        fromRequest: lat.fromRequest,
        createdToAnswer: lat.createdToAnswer,
      },
      arrivedBeforeAnswer: lat.beforeAnswer,
      cpuUsPerSendWithDelivery: cpuUsWithDelivery,
      windowWithDrain: wTotal,
    });
    r.row(
      part,
      'deliveries/s while sending; overall',
      `${fmtInt(inWindow / seconds)}; ${fmtInt(allS ? (res.ok - drained.missing) / allS : null)} (every send's webhook, from the window's start to the last arrival)`,
    );
    r.row(
      part,
      'backlog at the senders’ stop; drained in',
      `${fmtInt(backlog)} (${fmtInt(pendingAtStop)} pending in the database); ` +
        `${fmtNum(drainS, 2)} s${drainS > 0 ? ` (${fmtInt(backlog / drainS)}/s)` : ''}${drained.complete ? '' : `, ${fmtInt(drained.missing)} still missing`}`,
    );
    r.row(part, 'commit → POST, from the answer: p50 / p90 / p99 / max', fmtQ(lat.fromAnswer));
    r.row(part, 'commit → POST, from createdAt: p50 / p90 / p99 / max', fmtQ(lat.fromCreatedAt));
    r.row(
      part,
      'received; duplicated webhook-ids; bad signatures; lost',
      `${fmtInt(got.webhookIds.length)}; ${fmtInt(got.duplicates)}; ${fmtInt(got.badSignature)}; ${fmtInt(lat.lost)}`,
    );
    if (servers.length > 1) {
      r.row(part, 'delivered by each instance (its /metrics)', perInstance.map((n) => fmtInt(n)).join(' + '));
    }
    r.row(part, 'server CPU per send, its delivery included', `${fmtNum(cpuUsWithDelivery, 0)} µs`);
    return { perSec, cpuUsPerSend };
  };

  /** N sends at a steady rate, each one's webhook timed against its commit. */
  const latencyPhase = async (part: string, servers: ServerProc[], capacity: number) => {
    // Well under capacity, so that what is timed is the delivery, not a queue of sends: at most half
    // the sends/s the same servers reached in their closed-loop window.
    const rate = Math.max(1, Math.min(givenRate, Math.floor(capacity / 2)));
    if (rate < givenRate)
      r.note(`${part}: paced at ${rate}/s, half the window's ${fmtInt(capacity)} sends/s (--rate ${givenRate})`);
    recordLoad(ctx, part);
    log(`${part}: ${paced} sends at ${rate}/s`);
    const meter = meterOf(servers);
    meter.begin();
    const res = await sends(servers, { mode: 'paced', count: paced, rate });
    const drained = await waitFor(res.ids, Math.min(drainMs, remaining(ctx)));
    const w = meter.end();
    const got = await take();
    const lat = latencyOf(res, got);
    r.set(part, 'figures', {
      sends: paced,
      rate,
      startedAt: res.startedAt,
      endedAt: res.endedAt,
      ok: res.ok,
      errors: res.errors,
      errorSamples: res.errorSamples,
      sendLatency: percentiles(res.latencies),
      latency: {
        fromAnswer: lat.fromAnswer,
        fromCreatedAt: lat.fromCreatedAt,
        fromRequest: lat.fromRequest,
        createdToAnswer: lat.createdToAnswer,
      },
      arrivedBeforeAnswer: lat.beforeAnswer,
      lost: lat.lost,
      drained,
      received: got.webhookIds.length,
      duplicates: got.duplicates,
      badSignature: got.badSignature,
      window: w,
    });
    r.row(
      part,
      'sends',
      `${fmtInt(res.ok)} at ${fmtInt(rate)}/s (${fmtInt(res.errors)} errors), send p50 / p95 / p99 ${fmtLatency(percentiles(res.latencies))}`,
    );
    r.row(part, 'commit → POST, from the answer: p50 / p90 / p99 / max', fmtQ(lat.fromAnswer));
    r.row(part, 'commit → POST, from createdAt: p50 / p90 / p99 / max', fmtQ(lat.fromCreatedAt));
    r.row(part, 'request start → POST: p50 / p90 / p99 / max', fmtQ(lat.fromRequest));
    r.row(part, 'createdAt → answer (in the send: commit and response)', fmtQ(lat.createdToAnswer));
    r.row(
      part,
      'received; duplicated webhook-ids; lost; arrived before the answer',
      `${fmtInt(got.webhookIds.length)}; ${fmtInt(got.duplicates)}; ${fmtInt(lat.lost)}; ${fmtInt(lat.beforeAnswer)}`,
    );
    r.row(part, 'server / generator / receiver CPU, other busy cores', cpuLine(w, servers));
    if (res.errorSamples.length) r.note(`${part}: ${res.errorSamples.join('; ')}`);
  };

  // ------------------------------------------------------------ off: the baseline
  const off = await startServer({ name: 'server-off', serverDir: ctx.serverDir, env: b.serverEnv() });
  await warmUp('off', [off], false);
  const offFig = await window('off', [off], false);
  await off.stop();

  // ------------------------------------------------------------ on, one instance
  const on = await startServer({ name: 'server', serverDir: ctx.serverDir, env: { ...b.serverEnv(), ...webhookEnv } });
  await warmUp('on', [on], true);
  const onFig = await window('on', [on], true);
  await latencyPhase('latency', [on], onFig.perSec);
  await on.stop();
  r.set('ratio', 'onToOff', { perSec: ratio(onFig.perSec, offFig.perSec), cpu: ratio(onFig.cpuUsPerSend, offFig.cpuUsPerSend) });
  r.row(
    'ratio',
    'on ÷ off: sends/s, server CPU per send (window)',
    `${fmtNum(ratio(onFig.perSec, offFig.perSec), 3)}×, ${fmtNum(ratio(onFig.cpuUsPerSend, offFig.cpuUsPerSend), 3)}×`,
  );

  // ------------------------------------------------------------ two instances on one Postgres
  if (b.db.kind === 'postgres' && num(ctx, 'instances') >= 2) {
    const a = await startServer({ name: 'server-a', serverDir: ctx.serverDir, env: { ...b.serverEnv(), ...webhookEnv } });
    const bInstance = await startServer({ name: 'server-b', serverDir: ctx.serverDir, env: { ...b.serverEnv(), ...webhookEnv } });
    await warmUp('two', [a, bInstance], true);
    const two = await window('two', [a, bInstance], true);
    await latencyPhase('latency, two', [a, bInstance], two.perSec);
    await Promise.all([a.stop(), bInstance.stop()]);
    r.set('ratio', 'twoToOff', ratio(two.perSec, offFig.perSec));
    r.row('ratio', 'two ÷ off: sends/s', `${fmtNum(ratio(two.perSec, offFig.perSec), 3)}×`);
  } else {
    r.note('two instances: not run (embedded PGlite is one process; set BENCH_DATABASE_URL)');
  }

  // ------------------------------------------------------------ record only: recorded, not delivered
  if (num(ctx, 'record-only') > 0) {
    const rec = await startServer({
      name: 'server-record',
      serverDir: ctx.serverDir,
      env: { ...b.serverEnv(), ...webhookEnv, WEBHOOK_WORKER: 'false' },
    });
    await warmUp('record only', [rec], false);
    const recFig = await window('record only', [rec], false);
    await rec.stop();
    r.set('ratio', 'recordOnlyToOff', {
      perSec: ratio(recFig.perSec, offFig.perSec),
      cpu: ratio(recFig.cpuUsPerSend, offFig.cpuUsPerSend),
    });
    r.row(
      'ratio',
      'record only ÷ off: sends/s, server CPU per send',
      `${fmtNum(ratio(recFig.perSec, offFig.perSec), 3)}×, ${fmtNum(ratio(recFig.cpuUsPerSend, offFig.cpuUsPerSend), 3)}×`,
    );
  }
}

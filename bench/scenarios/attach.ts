/**
 * attach: sendMessage with one attachment against a plain send (issue 23),
 * from closed loops over HTTP keep-alive, each sender its own user and room,
 * on the embedded disk storage (UPLOADS_DIR in a temp dir). Three measured
 * phases, one server:
 *
 * - plain: sendMessage without attachments (the baseline);
 * - prepared (a): sendMessage with one upload attached, its createUpload and
 *   PUT done before the window (measured apart: "uploads");
 * - flow (b): the whole createUpload, PUT, sendMessage, one flow per loop turn;
 * - plain, again: the baseline of the ratios, the server as warm as for (a) and (b).
 *
 * Thumbnails are made after the send, one at a time, off the send path: a
 * window with attachments is followed by a wait until every attached image
 * has its thumbnail file in UPLOADS_DIR, and CPU per send counts the server's
 * CPU up to then (the window's alone is reported beside it).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { roomId, seedRooms, seedUsers, tokensFor } from '../db.js';
import { Generators, JWT_SECRET, log, onCleanup, startServer, type Window } from '../harness.js';
import { nowMs, percentiles, seededRandom, sleep } from '../stats.js';
import { backend, fmtInt, fmtLatency, fmtNum, Meter, num, ratio, recordLoad, remaining, str, type Ctx } from './common.js';

/** How many more uploads than the warm-up's rate says each sender gets for the prepared window. */
const POOL_MARGIN = 1.5;
/** The wait for thumbnails gives up when none was made for this long. */
const THUMBNAIL_STALL_MS = 15_000;

interface LoopResult {
  ok: number;
  errors: number;
  errorSamples: string[];
  latencies: Float64Array;
  startedAt: number;
  endedAt: number;
}

/** A PNG of about `bytes` bytes: random (incompressible) pixels from a fixed seed, square. */
async function benchPng(bytes: number): Promise<{ bytes: Buffer; side: number }> {
  const side = Math.max(1, Math.floor(Math.sqrt(bytes / 3)));
  const random = seededRandom(23);
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  const png = await sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
  return { bytes: png, side };
}

export async function runAttach(ctx: Ctx): Promise<void> {
  const senders = num(ctx, 'senders');
  const durationMs = num(ctx, 'duration') * 1000;
  const warmupMs = num(ctx, 'warmup') * 1000;
  const bodyBytes = num(ctx, 'body-bytes');
  const fields = str(ctx, 'fields');
  const r = ctx.report;

  const b = await backend(ctx);
  const users = await seedUsers(b.db, senders);
  await seedRooms(
    b.db,
    users.map((u, i) => ({ id: roomId(i + 1), members: [u] })),
  );
  const tokens = await tokensFor(users, JWT_SECRET);
  await b.db.release();
  const uploadsDir = mkdtempSync(join(os.tmpdir(), 'chat-bench-uploads-'));
  onCleanup('uploads dir', async () => rmSync(uploadsDir, { recursive: true, force: true }));
  const png = await benchPng(num(ctx, 'image-bytes'));
  const file = { bytes: png.bytes, filename: 'bench.png', contentType: 'image/png' };
  r.set('attach', 'file', { contentType: file.contentType, bytes: png.bytes.length, width: png.side, height: png.side });
  r.set('attach', 'uploadsDir', 'a temp dir (UPLOADS_DIR), embedded disk storage');
  r.row(
    'setup',
    'attachment',
    `one ${file.contentType} of ${fmtInt(png.bytes.length)} bytes (${png.side}×${png.side} px), disk storage in a temp dir`,
  );
  r.row('setup', 'senders', `${senders} closed loops, each its own user and room; selection: seq${fields ? ` ${fields}` : ''}`);

  const server = await startServer({
    name: 'server',
    serverDir: ctx.serverDir,
    // Every prepared upload is pending until its send: the per-user cap (20) would refuse the pool.
    env: { UPLOADS_DIR: uploadsDir, UPLOADS_PENDING_PER_USER: '1000000000', ...b.serverEnv() },
  });
  const gens = await Generators.start(1);
  const meter = Meter.of([server], gens);
  const list = users.map((_, i) => ({ token: tokens[i]!, room: roomId(i + 1) }));
  const call = <T = LoopResult>(cmd: string, args: Record<string, unknown>) =>
    gens.first.call<T>(cmd, { url: server.url, bodyBytes, fields, ...args }, remaining(ctx));

  /** Attached images so far (each successful send with an attachment), and the wait for their thumbnails. */
  let attached = 0;
  const thumbnails = () => readdirSync(uploadsDir).filter((name) => name.endsWith('.thumb')).length;
  const thumbnailsDone = async (): Promise<{ made: number; waitedMs: number; complete: boolean }> => {
    const started = nowMs();
    let made = thumbnails();
    let lastProgress = started;
    while (made < attached && nowMs() - lastProgress < THUMBNAIL_STALL_MS && nowMs() < ctx.deadline - 20_000) {
      await sleep(100);
      const now = thumbnails();
      if (now > made) lastProgress = nowMs();
      made = now;
    }
    return { made, waitedMs: nowMs() - started, complete: made >= attached };
  };

  const report = (
    part: string,
    noun: string,
    res: LoopResult,
    window: Window,
    withTail?: { window: Window; waitedMs: number; inWindow: number; inTail: number; perThumbnailUs: number | null },
  ) => {
    const seconds = (res.endedAt - res.startedAt) / 1000;
    const perSec = res.ok / seconds;
    const latency = percentiles(res.latencies);
    const cpuUs = (w: Window) => (res.ok ? (w.cpuMs.server! * 1000) / res.ok : null);
    const cpuUsPer = cpuUs(withTail?.window ?? window);
    r.set(part, 'figures', {
      ok: res.ok,
      errors: res.errors,
      errorSamples: res.errorSamples,
      seconds,
      perSec,
      latency,
      cpuUsPer,
      cpuUsPerInWindow: cpuUs(window),
      window,
      ...(withTail
        ? {
            thumbnailWaitMs: withTail.waitedMs,
            windowWithThumbnails: withTail.window,
            thumbnailsInWindow: withTail.inWindow,
            thumbnailsAfterWindow: withTail.inTail,
            cpuUsPerThumbnail: withTail.perThumbnailUs,
          }
        : {}),
    });
    r.row(part, `${noun}/s`, `${fmtInt(perSec)} (${fmtInt(res.ok)} in ${fmtNum(seconds, 1)} s)`);
    r.row(part, 'latency p50 / p95 / p99', fmtLatency(latency));
    r.row(part, 'errors', fmtInt(res.errors));
    r.row(
      part,
      `server CPU per ${noun.replace(/s$/, '')}`,
      withTail
        ? `${fmtNum(cpuUsPer, 0)} µs, its thumbnail included (over the window alone ${fmtNum(cpuUs(window), 0)} µs; ` +
            `the last thumbnail made ${fmtNum(withTail.waitedMs / 1000, 1)} s after it)`
        : `${fmtNum(cpuUsPer, 0)} µs`,
    );
    if (withTail) {
      const own = cpuUsPer !== null && withTail.perThumbnailUs !== null ? cpuUsPer - withTail.perThumbnailUs : null;
      r.set(part, 'cpuUsPerWithoutThumbnail', own);
      r.row(
        part,
        'server CPU per thumbnail; per send less it',
        `${fmtNum(withTail.perThumbnailUs, 0)} µs (from the ${fmtInt(withTail.inTail)} made after the window); ${fmtNum(own, 0)} µs`,
      );
      r.row(
        part,
        'thumbnails made during the window; after it',
        `${fmtInt(withTail.inWindow)} (${fmtInt(withTail.inWindow / seconds)}/s); ` +
          `${fmtInt(withTail.inTail)} in ${fmtNum(withTail.waitedMs / 1000, 1)} s (${fmtInt(withTail.inTail / (withTail.waitedMs / 1000))}/s)`,
      );
    }
    r.row(
      part,
      'server / generator CPU, other busy cores',
      `${fmtNum(window.cpuPercent.server, 0)} % / ${fmtNum(window.cpuPercent['loadgen-0'], 0)} %, ${fmtNum(window.otherCores)}`,
    );
    if (res.errorSamples.length) r.note(`${part}: ${res.errorSamples.join('; ')}`);
    return { perSec, cpuUsPer };
  };

  /**
   * A window with attachments: the loops, then the wait for their thumbnails, both metered. After the
   * loops only thumbnails run, so that tail gives the CPU of one thumbnail, and by difference the send's own.
   */
  const attachWindow = async <T extends LoopResult>(run: () => Promise<T>) => {
    const madeBefore = thumbnails();
    meter.begin();
    const res = await run();
    const window = meter.end();
    const madeInWindow = thumbnails();
    attached += res.ok;
    const done = await thumbnailsDone();
    const withThumbnails = meter.end();
    if (!done.complete) r.note(`thumbnails: ${done.made} of ${attached} made when the wait gave up`);
    const inWindow = madeInWindow - madeBefore;
    const inTail = done.made - madeInWindow;
    const perThumbnailUs = inTail >= 20 ? ((withThumbnails.cpuMs.server! - window.cpuMs.server!) * 1000) / inTail : null;
    return { res, window, tail: { window: withThumbnails, waitedMs: done.waitedMs, inWindow, inTail, perThumbnailUs } };
  };

  /** The warm-up's thumbnails are made before a window opens, so the window measures only its own. */
  const settle = async () => {
    const done = await thumbnailsDone();
    if (!done.complete) r.note(`thumbnails: ${done.made} of ${attached} made before a window (the wait gave up)`);
  };

  // ------------------------------------------------------------ plain
  log(`attach plain: warm-up ${warmupMs / 1000} s`);
  await call('sendLoops', { senders: list, durationMs: warmupMs });
  recordLoad(ctx, 'plain');
  log(`attach plain: ${senders} senders for ${durationMs / 1000} s`);
  meter.begin();
  const plainRes = await call('sendLoops', { senders: list, durationMs });
  const plain = report('plain', 'sends', plainRes, meter.end());

  // ------------------------------------------------------------ (a) prepared uploads
  // Warm-up: a small pool (the plain rate is the most a sender could use), whose rate sizes the real one.
  const warmPerSender = Math.ceil((plain.perSec * warmupMs) / 1000 / senders) + 2;
  log(`attach prepared: warm-up, ${warmPerSender} uploads per sender, then ${warmupMs / 1000} s of sends`);
  const warmPool = await call<LoopResult & { ids: string[][] }>('prepareUploads', {
    senders: list,
    perSender: warmPerSender,
    file,
  });
  const warm = await call<LoopResult & { ranOut: number }>('attachLoops', {
    senders: list.map((s, i) => ({ ...s, uploadIds: warmPool.ids[i]! })),
    durationMs: warmupMs,
  });
  attached += warm.ok;
  const warmRate = warm.ok / ((warm.endedAt - warm.startedAt) / 1000);
  await settle();

  const perSender = Math.ceil((warmRate * durationMs * POOL_MARGIN) / 1000 / senders) + 3;
  log(`attach prepared: ${perSender} uploads per sender (createUpload + PUT), measured apart`);
  recordLoad(ctx, 'uploads');
  meter.begin();
  const pool = await call<LoopResult & { ids: string[][] }>('prepareUploads', { senders: list, perSender, file });
  const uploads = report('uploads', 'uploads', pool, meter.end());
  r.set('uploads', 'perSender', perSender);

  recordLoad(ctx, 'prepared');
  log(`attach prepared: ${senders} senders for ${durationMs / 1000} s, one prepared upload per send`);
  const a = await attachWindow(() =>
    call<LoopResult & { ranOut: number; used: number }>('attachLoops', {
      senders: list.map((s, i) => ({ ...s, uploadIds: pool.ids[i]! })),
      durationMs,
    }),
  );
  const prepared = report('prepared (a)', 'sends', a.res, a.window, a.tail);
  if (a.res.ranOut > 0) {
    r.note(`prepared (a): ${a.res.ranOut} of ${senders} senders used up their ${perSender} uploads before the window ended`);
  }
  r.set('prepared (a)', 'ranOut', a.res.ranOut);

  // ------------------------------------------------------------ (b) the whole flow
  // No warm-up of its own: its three requests ran in the uploads and (a) phases.
  recordLoad(ctx, 'flow');
  log(`attach flow: ${senders} senders for ${durationMs / 1000} s, createUpload + PUT + sendMessage`);
  const bRun = await attachWindow(() =>
    call<LoopResult & { sendLatencies: Float64Array }>('uploadSendLoops', { senders: list, durationMs, file }),
  );
  const flow = report('flow (b)', 'flows', bRun.res, bRun.window, bRun.tail);
  const sendLatency = percentiles(bRun.res.sendLatencies);
  r.set('flow (b)', 'sendLatency', sendLatency);
  r.row('flow (b)', 'its sendMessage alone, latency p50 / p95 / p99', fmtLatency(sendLatency));

  // ------------------------------------------------------------ plain, again
  // The baseline of the ratios: the server as warm as it was for (a) and (b), after thousands of requests
  // (the first plain window follows a short warm-up; on a shared machine one window also moves by tens of percent).
  recordLoad(ctx, 'plain again');
  log(`attach plain, again: ${senders} senders for ${durationMs / 1000} s`);
  meter.begin();
  const againRes = await call('sendLoops', { senders: list, durationMs });
  const again = report('plain, again', 'sends', againRes, meter.end());

  // ------------------------------------------------------------ ratios
  const ratios = {
    preparedPerSec: ratio(prepared.perSec, again.perSec),
    preparedCpu: ratio(prepared.cpuUsPer, again.cpuUsPer),
    flowPerSec: ratio(flow.perSec, again.perSec),
    flowCpu: ratio(flow.cpuUsPer, again.cpuUsPer),
    firstPlainPerSec: ratio(plain.perSec, again.perSec),
    firstPlainCpu: ratio(plain.cpuUsPer, again.cpuUsPer),
  };
  r.set('ratio', 'toPlainAgain', ratios);
  r.row(
    'ratio',
    '(a) ÷ plain again: sends/s, CPU per send',
    `${fmtNum(ratios.preparedPerSec, 3)}×, ${fmtNum(ratios.preparedCpu, 3)}×`,
  );
  r.row('ratio', '(b) ÷ plain again: flows/s, CPU per flow', `${fmtNum(ratios.flowPerSec, 3)}×, ${fmtNum(ratios.flowCpu, 3)}×`);
  r.row('ratio', 'first plain ÷ plain again', `${fmtNum(ratios.firstPlainPerSec, 3)}×, ${fmtNum(ratios.firstPlainCpu, 3)}×`);
  const sum = prepared.cpuUsPer !== null && uploads.cpuUsPer !== null ? prepared.cpuUsPer + uploads.cpuUsPer : null;
  r.row('ratio', 'CPU: (a) + one upload, against (b)', `${fmtNum(sum, 0)} µs against ${fmtNum(flow.cpuUsPer, 0)} µs`);
}

import fc from 'fast-check';
import { validateMessage } from 'graphql-ws';
import { beforeAll, expect, it } from 'vitest';
import { forEachBackend } from '../support/suite.js';
import { frame, MAX_FRAME_BYTES, oversized, wsFrames, type GeneratedFrame } from './arbitraries.js';
import {
  ALLOWED_CLOSE_CODES,
  expectNoProblems,
  expectServing,
  expectSocketServing,
  INVALID_FRAME_PAYLOAD,
  preview,
  wsMessageProblems,
} from './contract.js';
import { PROPERTY_TIMEOUT_MS, propertyParameters, propertyWorld, type PropertyWorld } from './setup.js';
import { RawSocket } from './socket.js';

type Phase = 'before connection_init' | 'after connection_init';

/**
 * Frames that once broke the protocol, tried first on every run: a message
 * only a server sends (closed with 4500), and text that is not UTF-8 (the
 * close frame was lost: 1006).
 */
const FORMER_FAILURES: Record<Phase, GeneratedFrame[]> = {
  'before connection_init': [frame('message', '{"type":"connection_ack"}')],
  'after connection_init': [
    frame('ping', '{"type":"ping"}'),
    frame('text, not UTF-8', Buffer.from([0xff])),
    frame('ping', '{"type":"ping"}'),
  ],
};

/** Messages only a server sends: a client that sends one breaks the protocol (an invalid message). */
const SERVER_MESSAGES = new Set(['connection_ack', 'next', 'error']);

/**
 * How the protocol answers a frame that arrives first in a phase, when that
 * is decided by the frame alone: the close code, 'open' when the socket
 * stays open, null when it depends on more (a token, an operation).
 */
function firstFrameOutcome(frame: GeneratedFrame, phase: Phase): number | 'open' | null {
  if (oversized(frame)) return 1009;
  if (!frame.binary && !isUtf8(frame.data)) return INVALID_FRAME_PAYLOAD;
  let message: { type: string };
  try {
    message = validateMessage(JSON.parse(frame.data.toString('utf8')));
  } catch {
    return 4400;
  }
  if (SERVER_MESSAGES.has(message.type)) return 4400;
  switch (message.type) {
    case 'connection_init':
      return phase === 'after connection_init' ? 4429 : null;
    case 'subscribe':
      return phase === 'before connection_init' ? 4401 : null;
    case 'ping':
    case 'pong':
    case 'complete':
      return 'open';
    default:
      return null;
  }
}

const isUtf8 = (bytes: Buffer) => Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);

const describeFrames = (phase: Phase, frames: GeneratedFrame[]) =>
  `${phase}: ${frames.map((f) => `[${f.shape}, ${f.binary ? 'binary' : 'text'}, ${f.data.byteLength} bytes] ${preview(f.data.toString('utf8'), 160)}`).join(' | ')}`;

/**
 * Sends the frames on a fresh socket (acknowledged first, after
 * connection_init) and, if it is still open, a ping whose pong shows every
 * frame was read. Checks what came back and how the socket closed.
 */
async function tryFrames(p: PropertyWorld, phase: Phase, frames: GeneratedFrame[]): Promise<void> {
  const socket = await RawSocket.open(p.app);
  const what = describeFrames(phase, frames);
  try {
    if (phase === 'after connection_init')
      expect(await socket.init({ authorization: `Bearer ${p.user.token}` }), what).toBe(true);
    for (const frame of frames) await socket.send(frame.data, frame.binary);
    if (socket.open) await socket.roundTrip().catch(() => {}); // a socket closed meanwhile answers no ping
    await socket.until(() => socket.closedWith !== null || socket.open, 'the socket to settle');

    expectNoProblems(
      socket.received.flatMap((raw) => wsMessageProblems(raw, [p.world.secret])),
      what,
    );
    const closed = socket.closedWith;
    if (closed) {
      const allowed =
        ALLOWED_CLOSE_CODES.has(closed.code) ||
        (closed.code === INVALID_FRAME_PAYLOAD && frames.some((f) => !f.binary && !isUtf8(f.data)));
      expect(allowed, `closed with ${closed.code} "${closed.reason}": ${what}`).toBe(true);
    }
    const first = firstFrameOutcome(frames[0]!, phase);
    if (typeof first === 'number') expect(closed?.code, `the first frame decides: ${what}`).toBe(first);
    else if (first === 'open' && frames.length === 1)
      expect(closed, `a harmless frame keeps the socket open: ${what}`).toBeNull();
  } finally {
    await socket.close();
  }
}

forEachBackend('Random WebSocket frames', (s) => {
  let p: PropertyWorld;
  beforeAll(async () => {
    p = await propertyWorld(s);
  });

  for (const phase of ['before connection_init', 'after connection_init'] as const) {
    it(
      `answers random frames ${phase} with protocol messages and contract codes only, closing with the protocol's codes`,
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(wsFrames(p.world), { minLength: 1, maxLength: 6 }), async (frames) => {
            await tryFrames(p, phase, frames);
            await expectServing(p.app, p.user.token, p.user.id);
            await expectSocketServing(p.app, p.user.token, p.user.id);
          }),
          propertyParameters(100, 7_000, [[FORMER_FAILURES[phase]]]),
        );
      },
      PROPERTY_TIMEOUT_MS,
    );
  }

  it(
    `closes a socket with 1009 on a frame over ${MAX_FRAME_BYTES / 1024} KiB, before or after connection_init`,
    async () => {
      const big = fc.record({
        phase: fc.constantFrom<Phase>('before connection_init', 'after connection_init'),
        frame: wsFrames(p.world).filter(oversized),
      });
      await fc.assert(
        fc.asyncProperty(big, async ({ phase, frame }) => {
          await tryFrames(p, phase, [frame]);
        }),
        propertyParameters(30, 4_000),
      );
      await expectServing(p.app, p.user.token, p.user.id);
    },
    PROPERTY_TIMEOUT_MS,
  );
});

import { MessageType } from 'graphql-ws';

/**
 * Every frame this server writes, as text (graphql-transport-ws, the protocol
 * of graphql-ws's client; graphql-ws's MessageType names them). Payloads
 * arrive already serialised: a live event's rendering is shared by every
 * subscriber of its group, and only the envelope with the id is per frame.
 */
export const frames = {
  connectionAck: JSON.stringify({ type: MessageType.ConnectionAck }),
  pong: (payload: Record<string, unknown> | null | undefined) =>
    JSON.stringify(payload ? { type: MessageType.Pong, payload } : { type: MessageType.Pong }),
  /** `{"id":…,"type":"next","payload":`: a frame is this, the payload's JSON, and `}`. */
  nextPrefix: (id: string) => `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`,
  next: (id: string, payloadJson: string) => `${frames.nextPrefix(id)}${payloadJson}}`,
  /** errorsJson: a JSON array of GraphQL errors in their public form (errors.ts). */
  error: (id: string, errorsJson: string) => `{"id":${JSON.stringify(id)},"type":"${MessageType.Error}","payload":${errorsJson}}`,
  complete: (id: string) => `{"id":${JSON.stringify(id)},"type":"${MessageType.Complete}"}`,
};

/** The close code WebSocket reserves for "try again later" (RFC 6455 registry). */
export const TRY_AGAIN_LATER = 1013;
/** Too many messages on one socket, or too many sockets of one user (the contract's Limits). */
export const TOO_MANY_REQUESTS = 4429;

/** The most a close frame's reason may hold: 125 bytes of payload less the 2 of the code (RFC 6455 5.5). */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * A close reason cut to MAX_CLOSE_REASON_BYTES of UTF-8 at a character
 * boundary (`ws` throws on a longer one instead of closing). A reason that
 * names what the client sent (an operation id) can be any length.
 */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  return truncateUtf8(reason, MAX_CLOSE_REASON_BYTES - ELLIPSIS_BYTES) + ELLIPSIS;
}

/** 4409's reason, with the id shortened rather than the words that say what happened. */
export function subscriberExists(id: string): string {
  const reason = `Subscriber for ${id} already exists`;
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  const words = Buffer.byteLength('Subscriber for  already exists');
  return `Subscriber for ${truncateUtf8(id, MAX_CLOSE_REASON_BYTES - words - ELLIPSIS_BYTES)}${ELLIPSIS} already exists`;
}

const ELLIPSIS = '\u2026';
const ELLIPSIS_BYTES = Buffer.byteLength(ELLIPSIS);

/** The longest prefix of whole code points within `maxBytes` of UTF-8 (a lone surrogate counts as U+FFFD, as it is written). */
function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

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

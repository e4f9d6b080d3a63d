import { connect, type Socket } from 'node:net';

/** What postgres.js hands its `socket` option: the parsed host list (and a Unix socket path, if any). */
export interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

interface Watched {
  /** bytesRead when the oldest write not yet followed by any answer was made. */
  readMark: number;
  /** bytesWritten at the last check (catches writes the patched write() does not see: TLS writes to the handle). */
  writtenMark: number;
  /** When that write was made; null when everything written has been followed by an answer. */
  pendingSince: number | null;
}

/**
 * Retires connections that went silent. postgres.js has no per-query
 * timeout, and a network that drops packets without a reset never errors: a
 * query on such a connection waits until TCP gives up (many minutes), and
 * the pool pipelines further queries behind it when every connection is
 * busy. The deadline answers the caller; this makes sure the connection is
 * not used again. postgres.js opens its sockets through `socket()` here,
 * which watches each one: a socket that has written and heard nothing back
 * for `silentMs` is destroyed, which fails what waits on it with
 * CONNECTION_CLOSED and makes postgres.js open a fresh one on the next call.
 *
 * Statements are cut by Postgres's statement_timeout before silentMs, so a
 * healthy connection always answers in time, if only with an error. Over
 * TLS, writes are seen only by the byte counters; a write landing right
 * after an answer, within one check, is then caught at the connection's
 * next write.
 */
export function createSocketWatchdog(silentMs: number) {
  const sockets = new Map<Socket, Watched>();
  let next = 0;

  const check = () => {
    const now = Date.now();
    for (const [socket, watched] of sockets) {
      if (socket.destroyed) {
        sockets.delete(socket);
        continue;
      }
      const read = socket.bytesRead;
      const wrote = socket.bytesWritten !== watched.writtenMark;
      watched.writtenMark = socket.bytesWritten;
      if (read !== watched.readMark) {
        // Heard something since the pending write: the connection is alive.
        watched.readMark = read;
        watched.pendingSince = null;
      } else if (wrote && watched.pendingSince === null) {
        watched.pendingSince = now;
      }
      if (watched.pendingSince !== null && now - watched.pendingSince >= silentMs) {
        sockets.delete(socket);
        socket.destroy();
      }
    }
  };
  const timer = setInterval(check, Math.max(50, Math.min(250, Math.floor(silentMs / 8))));
  timer.unref();

  /** postgres.js's `socket` option: opens a connection to the next host of the list, watched. */
  const open = (target: SocketTarget): Socket => {
    const i = next++ % Math.max(1, target.host.length);
    const host = target.host[i] ?? 'localhost';
    const socket = target.path ? connect(target.path) : connect(target.port[i] ?? target.port[0] ?? 5432, host);
    // postgres.js reads `host` for the TLS server name.
    (socket as Socket & { host?: string }).host = host;
    const watched: Watched = { readMark: 0, writtenMark: 0, pendingSince: null };
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = (...args: unknown[]) => {
      // A write after an answer (or the first): the clock starts now, from what has been read so far.
      if (watched.pendingSince === null || socket.bytesRead !== watched.readMark) {
        watched.pendingSince = Date.now();
        watched.readMark = socket.bytesRead;
      }
      return write(...args);
    };
    sockets.set(socket, watched);
    return socket;
  };

  return {
    socket: open,
    stop: () => clearInterval(timer),
  };
}

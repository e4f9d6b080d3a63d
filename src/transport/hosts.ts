/** `host` or `host:port`; a host is a name, an IPv4 address or a bracketed IPv6 address. */
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/;

/** One entry of ALLOWED_HOSTS: a host name, and its port when the entry names one. */
export interface AllowedHost {
  readonly hostname: string;
  readonly port: string | null;
}

/** An ALLOWED_HOSTS entry as the config layer reads it; null: not host[:port]. */
export function parseAllowedHost(text: string): AllowedHost | null {
  const match = HOST.exec(text.trim().toLowerCase());
  if (!match || (match[2] !== undefined && Number(match[2]) > 65535)) return null;
  return { hostname: match[1]!, port: match[2] ?? null };
}

/**
 * Which Host headers this server answers (Config.allowedHosts). A page on a
 * name the attacker controls can make that name resolve to this server (DNS
 * rebinding): the browser then sends the attacker's name as Host and as
 * Origin, so the same-origin rule (origins.ts) would take the page for our
 * own. With hosts listed, a request for any other Host is refused before it
 * is routed, and so is a WebSocket upgrade; with none listed any Host is
 * taken (the behaviour before ALLOWED_HOSTS, fine for a server that only
 * clients other than browsers reach, or one behind a proxy that checks Host).
 */
export interface HostPolicy {
  /** Every Host is taken (no ALLOWED_HOSTS). */
  readonly any: boolean;
  allows(host: string | null | undefined): boolean;
}

export function createHostPolicy(allowed: readonly AllowedHost[]): HostPolicy {
  if (allowed.length === 0) return { any: true, allows: () => true };
  return {
    any: false,
    allows(host) {
      const given = host == null ? null : parseAllowedHost(host);
      if (!given) return false;
      // An entry without a port takes its host on any port; one with a port, on that port only.
      return allowed.some((entry) => entry.hostname === given.hostname && (entry.port === null || entry.port === given.port));
    },
  };
}

/**
 * 421 Misdirected Request (RFC 9110 §15.5.20): this server is not the
 * authority for the URI the client meant, which is what a rebound name is.
 * Not 403, which would say the client lacks a right that some other
 * credential could give it; a client that reaches us by a listed name is
 * answered normally.
 */
export const MISDIRECTED = 421;

export const misdirectedBody = JSON.stringify({
  errors: [{ message: 'This server does not answer for that Host', extensions: { code: 'FORBIDDEN' } }],
});

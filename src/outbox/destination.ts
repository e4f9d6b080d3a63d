import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE=true:
 * unspecified, loopback, private, shared (CGNAT), link-local, unique-local,
 * multicast and reserved ranges, so that a configured name cannot be made
 * to point into the deployment's own network (SSRF).
 */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** Whether an address (v4 or v6) lies in a range webhooks may not reach by default. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  // IPv4 inside IPv6 (mapped ::ffff:a.b.c.d, or NAT64 64:ff9b::a.b.c.d) is judged as the IPv4 it carries.
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? hexEmbedded(address);
  if (embedded) return PRIVATE.check(embedded, 'ipv4');
  return PRIVATE.check(address, 'ipv6');
}

/** `::ffff:7f00:1` written in hex: the IPv4 it maps, or null. */
function hexEmbedded(address: string): string | null {
  const match = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!match) return null;
  const high = parseInt(match[1]!, 16);
  const low = parseInt(match[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** Why an attempt reached no status: refused before connecting, timed out, or the network failed. */
export class DeliveryRefused extends Error {}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}

/**
 * POSTs to the URL and answers its status. The host is resolved here (every
 * address it has), refused when any is private and private ones are not
 * allowed, and the connection is pinned to the address judged, so a second
 * lookup by the HTTP client cannot answer differently (DNS rebinding).
 * Redirects are not followed: a 3xx is the answer. The whole attempt,
 * connection included, has `timeoutMs`.
 */
export async function post(url: URL, options: PostOptions): Promise<number> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
  } catch (error) {
    throw new DeliveryRefused(`dns: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (addresses.length === 0) throw new DeliveryRefused('dns: no address');
  if (!options.allowPrivate) {
    const refused = addresses.find(({ address }) => isPrivateAddress(address));
    if (refused) throw new DeliveryRefused(`refused: ${refused.address} is a private address`);
  }
  const pinned = addresses[0]!;
  const pin: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
        lookup: pin,
        signal,
        agent: false,
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        // Only the status matters: the rest is read and dropped, bounded by the same signal.
        res.resume();
        res.on('error', () => {});
      },
    );
    req.on('error', (error) => {
      reject(
        signal.aborted
          ? new DeliveryRefused('timeout')
          : new DeliveryRefused(`network: ${(error as NodeJS.ErrnoException).code ?? error.message}`),
      );
    });
    req.end(options.body);
  });
}

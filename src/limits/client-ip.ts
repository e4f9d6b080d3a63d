/**
 * The address a request comes from, as the per-IP limits count it. With
 * `trustProxy` 0 it is the socket's peer, whatever the headers say (a client
 * can write any X-Forwarded-For). Behind N trusted proxies, each appends the
 * address it received from to X-Forwarded-For, so the client is the entry N
 * places from the right of `…, xff, peer`; entries further left were written
 * by whoever sent the request and are not believed.
 */
export function clientIp(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustProxy: number,
): string {
  const peer = normalize(remoteAddress ?? '') || 'unknown';
  if (trustProxy === 0 || forwardedFor === undefined) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((entry) => normalize(entry.trim()))
    .filter((entry) => entry !== '');
  const chain = [...hops, peer];
  return chain[Math.max(0, chain.length - 1 - trustProxy)]!;
}

/** One spelling per address: an IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d. */
function normalize(address: string): string {
  const text = address.length > 64 ? address.slice(0, 64) : address;
  return text.startsWith('::ffff:') && text.includes('.') ? text.slice(7) : text.toLowerCase();
}

/**
 * The client's address for per-address limits (docs/operations/security.md "Floods"): the
 * connection's own, unless it comes from a trusted reverse proxy (`unauthenticated.trustedProxies`);
 * then the last X-Forwarded-For entry that is not a trusted proxy, since a client can write any
 * entries to the left of what the proxies append. An IPv4 address mapped into IPv6 (`::ffff:…`,
 * as Node reports IPv4 clients of a dual-stack socket) is read as IPv4.
 */
export function clientAddress(remote: string | undefined, forwardedFor: string | undefined, trustedProxies: readonly string[]): string {
  const plain = (address: string) => address.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  const trusted = new Set(trustedProxies.map(plain));
  const direct = remote ? plain(remote) : 'unknown';
  if (!trusted.has(direct) || !forwardedFor) return direct;
  const hops = forwardedFor.split(',').map(plain).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
  return hops[0] ?? direct;
}

/**
 * Which vendor URLs the service may call (docs/operations/security.md "Outbound calls"). A URL that
 * ops register over the API (a Meta source's `graphApiUrl`) is fetched by the worker with the
 * source's credentials, so it must be the vendor's own API: https, one of the vendor's hosts, the
 * default port, no credentials, query or fragment (a `#` would cut off the path the worker appends).
 * `extraOrigins` is the development and test override (`EXTRA_VENDOR_ORIGINS`, refused where real
 * keys are required): an origin listed there is taken as it is, plain http on loopback included.
 */

/** The hosts of each vendor API the service fetches from. */
export const vendorApiHosts = {
  /** Meta's Graph API (developers.facebook.com/docs/graph-api: every call goes to graph.facebook.com). */
  meta_lead_ads: ['graph.facebook.com'],
  /** HubSpot's CRM API (developers.hubspot.com/docs/api/crm: every call goes to api.hubapi.com). */
  hubspot: ['api.hubapi.com'],
  /** A Salesforce org's instance (My Domain: `<org>.my.salesforce.com`, sandboxes included); `*.` is any subdomain. */
  salesforce: ['*.my.salesforce.com', '*.salesforce.com'],
} as const satisfies Record<string, readonly string[]>;

export interface VendorUrlPolicy {
  hosts: readonly string[];
  /** Origins (`scheme://host[:port]`) allowed besides: development and tests only. */
  extraOrigins?: readonly string[];
}

/** Why `value` may not be fetched (a phrase that follows the field name), or undefined when it may. */
export function vendorUrlRefusal(value: string, { hosts, extraOrigins = [] }: VendorUrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.search || url.hash || value.includes('#') || value.includes('?')) return 'must have no query or fragment';
  if (url.username || url.password) return 'must carry no credentials';
  if (extraOrigins.includes(url.origin)) return undefined;
  if (url.protocol !== 'https:') return 'must be https://';
  // new URL() drops the default port: any port left is another service on the vendor's host.
  if (url.port) return 'must use the default https port';
  if (isIpLiteral(url.hostname)) return `must name the vendor's host (${hosts.join(', ')}), not an address`;
  if (!hosts.some((host) => hostMatches(url.hostname.toLowerCase(), host))) return `must be on the vendor's host (${hosts.join(', ')})`;
  return undefined;
}

/** `host` is the hostname itself, or `*.domain`: any subdomain of it (not the domain alone). */
const hostMatches = (hostname: string, host: string) => (host.startsWith('*.') ? hostname.endsWith(host.slice(1)) : hostname === host);

const isIpLiteral = (host: string) => /^\d+(\.\d+){0,3}$/.test(host) || host.startsWith('[') || /^0x/i.test(host);

/** IPv4 as a 32-bit number, or undefined when `text` is not a dotted quad. */
function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** IPv6 as eight 16-bit groups (an IPv4 tail folded into the last two), or undefined. */
function ipv6(text: string): number[] | undefined {
  const address = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!address.includes(':')) return undefined;
  let tail: number[] = [];
  let head = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4) {
    const n = ipv4(v4[1]!);
    if (n === undefined) return undefined;
    tail = [Math.floor(n / 65536), n % 65536];
    head = address.slice(0, -v4[1]!.length).replace(/:$/, '') || ':';
    if (head === ':') head = '::';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part ? part.split(':') : []);
  const [left, right] = [groups(halves[0]!), groups(halves[1] ?? '')];
  if ([...left, ...right].some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const missing = 8 - tail.length - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const fill = halves.length === 2 ? Array<number>(missing).fill(0) : [];
  return [...left.map((g) => parseInt(g, 16)), ...fill, ...right.map((g) => parseInt(g, 16)), ...tail];
}

/** IPv4 ranges that are not the public internet: this host, private networks, link-local (cloud metadata), shared, benchmarking, multicast, reserved. */
const privateV4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

function inV4(n: number, [base, bits]: [string, number]): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(n / size) === Math.floor(ipv4(base)! / size);
}

/**
 * Whether an address (as DNS answers it) is loopback, private, link-local or otherwise not a public
 * internet host; also IPv4 inside IPv6 (mapped, NAT64). Anything that is not an address counts as private.
 */
export function isPrivateAddress(address: string): boolean {
  const v4 = ipv4(address);
  if (v4 !== undefined) return privateV4.some((range) => inV4(v4, range));
  const g = ipv6(address);
  if (!g) return true;
  const embedded = (hi: number, lo: number) => isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return embedded(g[6]!, g[7]!); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(g[6]!, g[7]!); // NAT64
  if (g.slice(0, 6).every((x) => x === 0)) return true; // ::, ::1, and the old IPv4-compatible form
  const first = g[0]!;
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xffc0) === 0xfec0 || // site-local fec0::/10
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x2001 && g[1] === 0x0db8) // documentation
  );
}

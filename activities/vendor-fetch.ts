import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isPrivateAddress, vendorUrlRefusal, type VendorUrlPolicy } from '../domain/vendor-urls';

/** A vendor URL the service will not call: a permanent failure (retrying cannot change it). */
export class RefusedUrl extends Error {
  override readonly name = 'RefusedUrl';
}

/** What a vendor answered. */
export interface VendorAnswer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** More than any Graph API lead: the rest is not read. */
const maxBodyBytes = 1024 * 1024;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `dns.lookup` that fails when the name resolves to a private, loopback or link-local address
 * (any of its addresses): given to the socket, so the address checked is the one connected to, and
 * a DNS answer that changes between a check and the connection (rebinding) cannot slip past.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find(({ address }) => isPrivateAddress(address));
    if (refused || addresses.length === 0) {
      const failure: NodeJS.ErrnoException = new RefusedUrl(
        refused
          ? `names ${hostname}, which resolves to ${refused.address}, not a public address`
          : `names ${hostname}, which resolves to no address`,
      );
      failure.code = 'EREFUSEDADDRESS';
      return callback(failure, []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

/**
 * GET of `path` (with its query, ours) under a vendor's base URL, which is checked against `policy`
 * (domain/vendor-urls.ts): refused before any connection when the base URL is not allowed, connected only to public addresses (unless its origin is an extra one,
 * the loopback stub of tests and development), and never following a redirect (a 3xx is refused:
 * it would take the credentials elsewhere). Throws `RefusedUrl` for all of these.
 */
export function vendorGet(
  base: string,
  path: string,
  { policy, headers, timeoutMs }: { policy: VendorUrlPolicy; headers: Record<string, string>; timeoutMs: number },
): Promise<VendorAnswer> {
  const refusal = vendorUrlRefusal(base, policy);
  if (refusal) return Promise.reject(new RefusedUrl(refusal));
  const target = new URL(`${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
  const extra = policy.extraOrigins?.includes(target.origin) ?? false;
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<VendorAnswer>((resolve, reject) => {
    const req = request(
      target,
      { method: 'GET', headers, signal: AbortSignal.timeout(timeoutMs), ...(extra ? {} : { lookup: publicOnlyLookup as never }) },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.destroy();
          return reject(new RefusedUrl(`answered a redirect (${status}), which is not followed`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) res.destroy(new Error(`the answer is over ${maxBodyBytes / 1024} KiB`));
          else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    // A lookup refused by publicOnlyLookup arrives here as the RefusedUrl it made.
    req.on('error', reject);
    req.end();
  });
}

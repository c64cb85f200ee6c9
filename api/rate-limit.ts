import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
import { clientAddress } from '../domain/client-address';
import { durationMs } from '../domain/duration';
import type { LeadConfig } from '../domain/config';
import type { AppEnv } from './context';
import { ApiError } from './errors';

/** Seconds until the window of the limit that was hit ends: the 429's Retry-After. */
function retryAfterSeconds(c: Context<AppEnv>, windowMs: number): number {
  const resetTime = c.get('rateLimit')?.resetTime?.getTime() ?? Date.now() + windowMs;
  return Math.max(1, Math.ceil((resetTime - Date.now()) / 1000));
}

/** The 429 `rate_limited` answer of every limit: a JSON error with Retry-After (docs/api.md). */
function tooMany(windowMs: number, message: (seconds: number) => string) {
  return (c: Context<AppEnv>) => {
    const seconds = retryAfterSeconds(c, windowMs);
    throw new ApiError(429, 'rate_limited', message(seconds), undefined, { 'Retry-After': String(seconds) });
  };
}

/** A fixed-window limit per API key in this API process (each API instance keeps its own count), answered 429 with Retry-After. */
function perKeyLimit(
  { requests, per }: { requests: number; per: string },
  { skip, message }: { skip?: (c: Context<AppEnv>) => boolean; message: (seconds: number) => string },
) {
  const windowMs = durationMs(per);
  return rateLimiter<AppEnv>({
    windowMs,
    limit: requests,
    standardHeaders: 'draft-6',
    keyGenerator: (c) => c.get('apiKeyHash'),
    ...(skip && { skip }),
    handler: tooMany(windowMs, message),
  });
}

/** docs/api.md: a capture key over its rate gets 429 with Retry-After. Other roles are not limited. */
export function captureRateLimit(limit: LeadConfig['capture']['rateLimit']) {
  return perKeyLimit(limit, {
    skip: (c) => c.get('principal').role !== 'capture',
    message: (seconds) => `this capture key sent more than ${limit.requests} requests in ${limit.per}: retry in ${seconds} s`,
  });
}

/**
 * Test emails of draft templates (`POST /templates/test-email`), per API key like the capture
 * limit, so that no key can turn the service into a mail cannon.
 */
export function testEmailRateLimit(limit: LeadConfig['notify']['testEmails']) {
  return perKeyLimit(limit, { message: (seconds) => `this key sent ${limit.requests} test emails in ${limit.per}: retry in ${seconds} s` });
}

/** The source id a `/hooks/{sourceId}` path names (any text after /hooks/: an unknown one is counted too). */
const hookSourceId = (path: string) => /^\/hooks\/([^/]{1,100})/.exec(path)?.[1];

/**
 * Limits on requests that fail authentication (docs/operations/security.md "Floods"), checked
 * before the lookup, the unsealing and the HMAC they would cost. Each request is counted when it
 * arrives, so a burst is cut off at the limit even while its first requests are still running,
 * and uncounted when it is answered without an authentication failure: traffic that authenticates
 * is never limited here (only its requests in flight count, for as long as they run). Fixed windows
 * per API process, as the capture key's limit.
 */
export function unauthenticatedRateLimits(
  { perAddress, perSource, trustedProxies }: LeadConfig['unauthenticated'],
  { configuredKey }: { configuredKey: (c: Context<AppEnv>) => boolean },
) {
  const address = (c: Context<AppEnv>) => {
    let remote: string | undefined;
    try {
      remote = getConnInfo(c).remote.address;
    } catch {
      // No Node socket (app.request() in a test): one shared bucket.
      remote = undefined;
    }
    return clientAddress(remote, c.req.header('x-forwarded-for'), trustedProxies);
  };
  const hookFailures = new Set([401, 403, 404]);
  const make = (
    { requests, per }: { requests: number; per: string },
    keyGenerator: (c: Context<AppEnv>) => string,
    failed: ReadonlySet<number>,
    who: (c: Context<AppEnv>) => string,
    skip: (c: Context<AppEnv>) => boolean = () => false,
  ) => {
    const windowMs = durationMs(per);
    return rateLimiter<AppEnv>({
      windowMs,
      limit: requests,
      standardHeaders: 'draft-6',
      keyGenerator,
      skip,
      skipSuccessfulRequests: true,
      requestWasSuccessful: (c) => !failed.has(c.res.status),
      handler: (c) =>
        tooMany(
          windowMs,
          (seconds) => `${who(c)} had more than ${requests} requests fail authentication in ${per}: retry in ${seconds} s`,
        )(c),
    });
  };
  return {
    /** `/hooks/*` (and `/slack/*`) per client address: bad signatures, unknown sources, refused handshakes. */
    hooksPerAddress: make(perAddress, address, hookFailures, () => 'this address'),
    /** `/hooks/*` per source id, whoever sends: one source's flood leaves the others alone. */
    hooksPerSource: make(
      perSource,
      (c) => hookSourceId(c.req.path) ?? '',
      hookFailures,
      (c) => `source ${hookSourceId(c.req.path)}`,
      (c) => !hookSourceId(c.req.path),
    ),
    /**
     * API routes per client address: unknown bearer keys (401). A key of API_KEYS is known without a
     * lookup and skips the count, so that a busy client's requests in flight never count against it.
     */
    keysPerAddress: make(perAddress, address, new Set([401]), () => 'this address', configuredKey),
  };
}

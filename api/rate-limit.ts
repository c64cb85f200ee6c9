import { rateLimiter } from 'hono-rate-limiter';
import { durationMs } from '../domain/duration';
import type { LeadConfig } from '../domain/config';
import type { AppEnv } from './context';
import { ApiError } from './errors';

/**
 * docs/api.md: a capture key over its rate gets 429 with Retry-After. Counted per key in a fixed window
 * in this API process (each API instance keeps its own count). Other roles are not limited.
 */
export function captureRateLimit({ requests, per }: LeadConfig['capture']['rateLimit']) {
  const windowMs = durationMs(per);
  return rateLimiter<AppEnv>({
    windowMs,
    limit: requests,
    standardHeaders: 'draft-6',
    keyGenerator: (c) => c.get('apiKeyHash'),
    skip: (c) => c.get('principal').role !== 'capture',
    handler: (c) => {
      const resetTime = c.get('rateLimit')?.resetTime?.getTime() ?? Date.now() + windowMs;
      const seconds = Math.max(1, Math.ceil((resetTime - Date.now()) / 1000));
      throw new ApiError(429, 'rate_limited', `this capture key sent more than ${requests} requests in ${per}: retry in ${seconds} s`, undefined, {
        'Retry-After': String(seconds),
      });
    },
  });
}

import { createHash } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Sql } from '../db/client';
import { opaqueKey } from '../domain/input';
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotencyKey, releaseIdempotencyKey } from '../db/idempotency';
import type { AppEnv } from './context';
import { ApiError } from './errors';

const idempotencyKeySchema = opaqueKey(255);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `Idempotency-Key` on POST (API.md, "Conventions"): the same key with the same body returns the
 * first response and changes nothing; with another body, 422. Keys are scoped to the API key.
 * Answers of 5xx are not kept, so a retry after a server error runs again.
 */
export function idempotency(sql: Sql) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || key === undefined) return next();
    const checked = idempotencyKeySchema.safeParse(key);
    if (!checked.success) {
      throw new ApiError(400, 'validation_failed', 'invalid Idempotency-Key header', [
        { path: 'Idempotency-Key', message: checked.error.issues[0]!.message },
      ]);
    }
    const scope = c.get('apiKeyHash');
    const requestHash = sha256(`${c.req.method} ${c.req.path}\n${await c.req.text()}`);
    if (!(await claimIdempotencyKey(sql, scope, key, requestHash))) {
      const first = await findIdempotencyKey(sql, scope, key);
      if (first && first.requestHash !== requestHash) {
        throw new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different request');
      }
      if (!first || first.status === null) {
        throw new ApiError(409, 'idempotency_key_in_use', 'a request with this Idempotency-Key is still being answered', undefined, { 'Retry-After': '1' });
      }
      return c.json(first.response, first.status as ContentfulStatusCode, { 'Idempotent-Replayed': 'true' });
    }

    // Downstream (e.g. the capture signal) derives its own de-duplication id from the key.
    c.set('idempotencyKey', `idem-${sha256(`${scope}:${key}`).slice(0, 32)}`);
    await next();
    if (c.res.status >= 500) {
      await releaseIdempotencyKey(sql, scope, key);
    } else {
      const body: unknown = await c.res.clone().json().catch(() => null);
      await completeIdempotencyKey(sql, scope, key, c.res.status, body);
    }
  });
}

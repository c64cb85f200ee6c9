import { createHash } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Sql } from '../db/client';
import type { LeadConfig } from '../domain/config';
import { durationMs } from '../domain/duration';
import { opaqueKey } from '../domain/input';
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotencyKey, releaseIdempotencyKey } from '../db/idempotency';
import type { AppEnv } from './context';
import { ApiError } from './errors';

const idempotencyKeySchema = opaqueKey(255);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What a key's first request is remembered by: a replay must match it. */
export const requestHash = (method: string, path: string, body: string) => sha256(`${method} ${path}\n${body}`);

/**
 * Fields of an answer that carry a credential (a rep's new API key, a capture source's secret): never stored, so a replay
 * answers them `null`, with `<field>Omitted: true` saying the value was not kept.
 */
const secretFields = ['apiKey', 'secret', 'verifyToken'] as const;

function withoutSecrets(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const kept: Record<string, unknown> = { ...body };
  for (const field of secretFields) {
    if (kept[field] !== undefined && kept[field] !== null) Object.assign(kept, { [field]: null, [`${field}Omitted`]: true });
  }
  return kept;
}

/**
 * `Idempotency-Key` on POST (docs/api.md, "Conventions"): the same key with the same body returns the
 * first response and changes nothing; with another body, 422. Keys are scoped to the API key.
 * Answers of 5xx are not kept, so a retry after a server error runs again (at once: the claim is
 * freed, the key kept). A key left unanswered (its process died) is taken over after `lease`; keys
 * are forgotten `expireAfter` after first use.
 */
export function idempotency(sql: Sql, { lease, expireAfter }: LeadConfig['idempotency']) {
  const times = { leaseMs: durationMs(lease), expireAfterMs: durationMs(expireAfter) };
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
    const hash = requestHash(c.req.method, c.req.path, await c.req.text());
    const held = await claimIdempotencyKey(sql, scope, key, hash, times);
    if (!held) {
      const first = await findIdempotencyKey(sql, scope, key);
      if (first && first.requestHash !== hash) {
        throw new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different request');
      }
      if (!first || first.status === null) {
        throw new ApiError(409, 'idempotency_key_in_use', 'a request with this Idempotency-Key is still being answered', undefined, {
          'Retry-After': '1',
        });
      }
      return c.json(first.response, first.status as ContentfulStatusCode, { 'Idempotent-Replayed': 'true' });
    }

    // Downstream (e.g. the capture signal) derives its own de-duplication id from the key and its
    // first use: a retry after a 5xx or a timeout, or a take-over, repeats what the earlier attempt
    // may already have done (a 5xx does not say that nothing happened) under the same id, while a
    // key used afresh after it expired is a new request.
    c.set('idempotencyKey', `idem-${sha256(`${scope}:${key}:${held.createdAt.getTime()}`).slice(0, 32)}`);
    await next();
    if (c.res.status >= 500) {
      // Not stored, so that the retry runs again; the key keeps its first use (see releaseIdempotencyKey).
      await releaseIdempotencyKey(sql, scope, key, held.claim);
    } else {
      const body: unknown = await c.res
        .clone()
        .json()
        .catch(() => null);
      await completeIdempotencyKey(sql, scope, key, held.claim, c.res.status, withoutSecrets(body));
    }
  });
}

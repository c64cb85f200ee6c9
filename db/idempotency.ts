import type { Sql } from './client';

// Idempotency keys, scoped to the API key that sent them (`scope`). A key is claimed before its
// request is answered and holds the answer once there is one. `claim` names the holder.

export interface IdempotencyTimes {
  /** An unanswered claim older than this is taken over. */
  leaseMs: number;
  /** A key older than this (from its first use) is forgotten. */
  expireAfterMs: number;
}

export interface IdempotencyClaim {
  /** Who holds the key: only they may store its answer or free it. */
  claim: string;
  /** When the key was first used: the same across take-overs, new once the key had expired. */
  createdAt: Date;
}

/** Expired keys deleted by each claim: far more than the one a claim adds, so the purge keeps up. */
const purgeBatch = 100;

const ago = (sql: Sql, ms: number) => sql`now() - ${ms}::float8 * interval '1 millisecond'`;

/**
 * Claims the key for a request: a new key, an expired one (a fresh use) or one whose holder left it
 * unanswered past the lease or freed it after a server error (same request only: another body is a
 * reuse). Only the fresh use of an expired key gets a new `created_at`. Undefined when it is
 * held or answered. Also purges a few expired keys of any scope, in the same round trip; rows
 * another claim is purging are skipped rather than waited for.
 */
export async function claimIdempotencyKey(
  sql: Sql,
  scope: string,
  key: string,
  requestHash: string,
  { leaseMs, expireAfterMs }: IdempotencyTimes,
): Promise<IdempotencyClaim | undefined> {
  const expired = ago(sql, expireAfterMs);
  const [claimed] = await sql<{ claim: string; created_at: Date }[]>`
    WITH purged AS (
      DELETE FROM idempotency_keys WHERE (scope, key) IN (
        SELECT scope, key FROM idempotency_keys
        WHERE created_at < ${expired} AND NOT (scope = ${scope} AND key = ${key})
        ORDER BY created_at LIMIT ${purgeBatch} FOR UPDATE SKIP LOCKED))
    INSERT INTO idempotency_keys AS k (scope, key, request_hash, claim)
    VALUES (${scope}, ${key}, ${requestHash}, gen_random_uuid())
    ON CONFLICT (scope, key) DO UPDATE SET
      claim = EXCLUDED.claim, claimed_at = now(), request_hash = EXCLUDED.request_hash, status = NULL, response = NULL,
      created_at = CASE WHEN k.created_at < ${expired} THEN now() ELSE k.created_at END
    WHERE k.created_at < ${expired}
       OR (k.status IS NULL AND k.request_hash = EXCLUDED.request_hash AND k.claimed_at < ${ago(sql, leaseMs)})
    RETURNING claim, created_at`;
  return claimed && { claim: claimed.claim, createdAt: claimed.created_at };
}

/** The request a key was claimed for, and its answer (`status` null while it is still being answered). */
export async function findIdempotencyKey(
  sql: Sql,
  scope: string,
  key: string,
): Promise<{ requestHash: string; status: number | null; response: unknown } | undefined> {
  const [row] = await sql<{ request_hash: string; status: number | null; response: unknown }[]>`
    SELECT request_hash, status, response FROM idempotency_keys WHERE scope = ${scope} AND key = ${key}`;
  return row && { requestHash: row.request_hash, status: row.status, response: row.response };
}

/** Keeps the answer, for replays of the same request; not when the claim was taken over meanwhile. */
export async function completeIdempotencyKey(
  sql: Sql,
  scope: string,
  key: string,
  claim: string,
  status: number,
  response: unknown,
): Promise<void> {
  await sql`UPDATE idempotency_keys SET status = ${status}, response = ${sql.json(response as never)}
            WHERE scope = ${scope} AND key = ${key} AND claim = ${claim}`;
}

/**
 * Frees the claim, so that the request can be sent again at once; not when the claim was taken over
 * meanwhile. The row is kept: an answer that never reached the client (a 5xx, a timeout) does not
 * mean nothing happened downstream, so the retry must carry the same de-duplication id, which is
 * derived from `created_at`, and it must be the same request (`request_hash`: another body is a
 * reuse of the key, 422 — draft-ietf-httpapi-idempotency-key-header, "Error Scenarios"). The
 * lease is simply run out (`claimed_at` = -infinity, no holder), so that `claimIdempotencyKey`
 * takes the key over for the same request, keeping `created_at`; the row expires as any other.
 */
export async function releaseIdempotencyKey(sql: Sql, scope: string, key: string, claim: string): Promise<void> {
  await sql`UPDATE idempotency_keys SET claim = NULL, claimed_at = '-infinity'
            WHERE scope = ${scope} AND key = ${key} AND claim = ${claim}`;
}

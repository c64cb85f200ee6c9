import type { Sql } from './client';

// Idempotency keys, scoped to the API key that sent them (`scope`). A key is claimed before its
// request is answered and holds the answer once there is one.

/** Claims the key for a request; false when it is already claimed (answered, or being answered). */
export async function claimIdempotencyKey(sql: Sql, scope: string, key: string, requestHash: string): Promise<boolean> {
  const [claimed] = await sql`
    INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (${scope}, ${key}, ${requestHash})
    ON CONFLICT DO NOTHING RETURNING key`;
  return claimed !== undefined;
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

/** Keeps the answer, for replays of the same request. */
export async function completeIdempotencyKey(sql: Sql, scope: string, key: string, status: number, response: unknown): Promise<void> {
  await sql`UPDATE idempotency_keys SET status = ${status}, response = ${sql.json(response as never)}
            WHERE scope = ${scope} AND key = ${key}`;
}

/** Frees the key, so that the request can be sent again. */
export async function releaseIdempotencyKey(sql: Sql, scope: string, key: string): Promise<void> {
  await sql`DELETE FROM idempotency_keys WHERE scope = ${scope} AND key = ${key}`;
}

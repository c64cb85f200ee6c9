import { signInEmailKind } from '../domain/inbox';
import type { Sql } from './client';
import { activeTraceParent } from './outbox';

/** At most one sign-in email per rep in this long: a flood of requests for one address sends one. */
const signInEmailEveryMs = 60_000;

/**
 * Queues a sign-in email to the active rep with this address, if there is one: one statement
 * either way, so that the answer (and its time) does not say whether the address is a rep's. Only
 * the email channel (migration 0014): the link is a credential, never posted to the team's chat
 * webhook. The entry holds no link; the notifier mints it at delivery (worker/notifier.ts).
 */
export async function enqueueSignInEmail(sql: Sql, email: string, requestId: string): Promise<void> {
  await sql`
    INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message, data, channel, trace_parent)
    SELECT ${`${signInEmailKind}:${requestId}`}, NULL, ${signInEmailKind}, r.id, 'Sign in to your lead inbox', '{}'::jsonb, 'email', ${activeTraceParent()}::text
    FROM reps r
    WHERE lower(r.email) = lower(${email}) AND r.email <> '' AND r.active
      AND NOT EXISTS (
        SELECT 1 FROM notifications n
        -- The kind written out: the partial index notifications_sign_in_idx (migration 0027) is on it.
        WHERE n.kind = 'inbox_sign_in' AND n.recipient = r.id AND n.created_at > now() - ${`${signInEmailEveryMs} milliseconds`}::interval
      )
    LIMIT 1
    ON CONFLICT (dedupe_key) DO NOTHING`;
}

/**
 * Spends a sign-in link's nonce: true the first time, false ever after (a link signs in once).
 * Spent nonces whose links have expired are deleted on the way: past their expiry the signature
 * check refuses the link anyway.
 */
export async function spendSignInNonce(sql: Sql, nonce: string, expiresAt: Date): Promise<boolean> {
  const [spent] = await sql<{ nonce: string }[]>`
    WITH expired AS (DELETE FROM spent_sign_in_links WHERE expires_at < now())
    INSERT INTO spent_sign_in_links (nonce, expires_at) VALUES (${nonce}, ${expiresAt})
    ON CONFLICT (nonce) DO NOTHING
    RETURNING nonce`;
  return spent !== undefined;
}

/** Whether the rep may still use the inbox: a deactivated rep's session stops at once. */
export async function repIsActive(sql: Sql, repId: string): Promise<boolean> {
  const [rep] = await sql`SELECT 1 FROM reps WHERE id = ${repId} AND active`;
  return rep !== undefined;
}

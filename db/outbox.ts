import type { OutboxNotification } from '../domain/lead-record';
import type { Sql, Tx } from './client';

/** Queues alerts for delivery, inside the caller's transaction; one already queued (same key) is not queued again. */
export async function enqueueNotifications(tx: Tx, leadId: string, notifications: OutboxNotification[]): Promise<void> {
  for (const n of notifications) {
    await tx`
      INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message, data)
      VALUES (${n.key}, ${leadId}, ${n.kind}, ${n.recipient}, ${n.message}, ${tx.json(n.data as never)})
      ON CONFLICT (dedupe_key) DO NOTHING`;
  }
}

/** An outbox entry claimed for delivery. */
export interface OutboxEntry {
  id: string;
  dedupe_key: string;
  lead_id: string | null;
  kind: string;
  recipient: string;
  message: string;
  data: Record<string, unknown>;
  /** Including this one. */
  attempts: number;
}

/**
 * Claims up to `limit` due entries with SKIP LOCKED, so several notifiers never claim the same
 * one. A claim is a 60-second lease: an entry whose delivery is never answered (crash) becomes
 * due again when it ends.
 */
export function claimDue(sql: Sql, limit: number): Promise<OutboxEntry[]> {
  return sql<OutboxEntry[]>`
    UPDATE notifications SET attempts = attempts + 1, next_attempt_at = now() + interval '60 seconds'
    WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= now()
                 ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id, dedupe_key, lead_id, kind, recipient, message, data, attempts`;
}

export async function markSent(sql: Sql, id: string): Promise<void> {
  await sql`UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = ${id}`;
}

/** Never delivered, on purpose (e.g. nowhere to deliver to). */
export async function markSkipped(sql: Sql, id: string, why: string): Promise<void> {
  await sql`UPDATE notifications SET status = 'skipped', last_error = ${why} WHERE id = ${id}`;
}

/** A failed attempt: due again in `retryInSeconds`. */
export async function markFailed(sql: Sql, id: string, error: string, retryInSeconds: number): Promise<void> {
  await sql`UPDATE notifications SET last_error = ${error},
              next_attempt_at = now() + make_interval(secs => ${retryInSeconds}) WHERE id = ${id}`;
}

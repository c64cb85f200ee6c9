import { keptEventTypes, type RetentionAges, type RetentionTable } from '../domain/retention';
import type { Sql } from './client';

const ago = (sql: Sql, ms: number) => sql`now() - ${ms}::float8 * interval '1 millisecond'`;

/**
 * Deletes at most `limit` rows of `table` past their retention (docs/operations/retention.md),
 * in one statement, and answers how many. Rows other statements hold are skipped (SKIP LOCKED),
 * never waited for. Judged on the database clock, like every stored time. Never pruned: events
 * of open leads (and, of closed ones, those in `keptEventTypes`), pending outbox entries, and
 * idempotency keys still inside their replay window.
 */
export async function pruneBatch(
  sql: Sql,
  table: RetentionTable,
  ages: RetentionAges,
  limit: number,
  closedStatuses: readonly string[],
): Promise<number> {
  switch (table) {
    case 'lead_events': {
      // Through leads_closed_changed_idx (migration 0022), then each lead's events through lead_events_lead_idx.
      const rows = await sql`
        DELETE FROM lead_events WHERE id IN (
          SELECT e.id FROM leads l JOIN lead_events e ON e.lead_id = l.lead_id
          WHERE l.status IN ${sql(closedStatuses as string[])} AND l.updated_at < ${ago(sql, ages.timelineAfterClose)}
            AND e.type NOT IN ${sql(keptEventTypes as string[])}
          LIMIT ${limit} FOR UPDATE OF e SKIP LOCKED)`;
      return rows.count;
    }
    case 'notifications': {
      // Through notifications_status_created_idx; an entry is judged by when it was sent, or queued if never sent.
      const rows = await sql`
        DELETE FROM notifications WHERE id IN (
          SELECT id FROM notifications
          WHERE (status IN ('sent', 'skipped') AND created_at < ${ago(sql, ages.notifications)}
                 AND (sent_at IS NULL OR sent_at < ${ago(sql, ages.notifications)}))
             OR (status = 'dead' AND created_at < ${ago(sql, ages.deadNotifications)})
          LIMIT ${limit} FOR UPDATE SKIP LOCKED)`;
      return rows.count;
    }
    case 'source_deliveries': {
      const rows = await sql`
        DELETE FROM source_deliveries WHERE (source_id, event_id) IN (
          SELECT source_id, event_id FROM source_deliveries WHERE received_at < ${ago(sql, ages.sourceDeliveries)}
          LIMIT ${limit} FOR UPDATE SKIP LOCKED)`;
      return rows.count;
    }
    case 'idempotency_keys': {
      // The keys claimIdempotencyKey would purge (and take afresh) anyway; also when no request comes.
      const rows = await sql`
        DELETE FROM idempotency_keys WHERE (scope, key) IN (
          SELECT scope, key FROM idempotency_keys WHERE created_at < ${ago(sql, ages.idempotencyKeys)}
          ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)`;
      return rows.count;
    }
    case 'routing_decisions': {
      const rows = await sql`
        DELETE FROM routing_decisions WHERE (lead_id, routing_key) IN (
          SELECT lead_id, routing_key FROM routing_decisions WHERE decided_at < ${ago(sql, ages.routingDecisions)}
          LIMIT ${limit} FOR UPDATE SKIP LOCKED)`;
      return rows.count;
    }
  }
}

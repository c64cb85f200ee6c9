import type { Sql } from '../db/client';
import { pruneBatch } from '../db/retention';
import type { LeadConfig } from '../domain/config';
import { durationMs } from '../domain/duration';
import { closedStatuses } from '../domain/lead';
import { retentionTables, type RetentionAges, type RetentionTable } from '../domain/retention';
import { repeat } from './repeat';

export interface RetentionOptions {
  sql: Sql;
  retention: LeadConfig['retention'];
  /** `idempotency.expireAfter`: a key past it is never replayed again. */
  idempotencyExpireAfter: string;
  /** Called after each batch with the rows it deleted: the hook for `lead_retention_pruned_rows_total`. */
  onPruned?: (table: RetentionTable, rows: number) => void;
  log?: (line: string) => void;
}

export const retentionAges = (retention: LeadConfig['retention'], idempotencyExpireAfter: string): RetentionAges => ({
  timelineAfterClose: durationMs(retention.timelineAfterClose),
  notifications: durationMs(retention.notifications),
  deadNotifications: durationMs(retention.deadNotifications),
  sourceDeliveries: durationMs(retention.sourceDeliveries),
  routingDecisions: durationMs(retention.routingDecisions),
  idempotencyKeys: durationMs(idempotencyExpireAfter),
});

/**
 * One round of retention (docs/operations/retention.md): each table in turn, batch after batch of
 * at most `batchSize` rows, until a batch comes back short or the round has run `runFor`; whatever
 * is left waits for the next round. Answers the rows pruned per table.
 */
export async function pruneOnce(options: Omit<RetentionOptions, 'log'>, now = () => Date.now()): Promise<Record<RetentionTable, number>> {
  const { sql, retention, onPruned = () => {} } = options;
  const ages = retentionAges(retention, options.idempotencyExpireAfter);
  const endsAt = now() + durationMs(retention.runFor);
  const pruned = Object.fromEntries(retentionTables.map((table) => [table, 0])) as Record<RetentionTable, number>;
  for (const table of retentionTables) {
    while (now() < endsAt) {
      const rows = await pruneBatch(sql, table, ages, retention.batchSize, closedStatuses);
      pruned[table] += rows;
      if (rows > 0) onPruned(table, rows);
      if (rows < retention.batchSize) break;
    }
  }
  return pruned;
}

/**
 * Prunes every `retention.every`, one round at a time (`repeat`). Several workers may run it: the
 * batches skip rows another one is deleting. A failed round is logged and the next one goes on.
 */
export function startRetention(options: RetentionOptions) {
  const { log = () => {} } = options;
  const everyMs = durationMs(options.retention.every);
  return repeat(
    () => pruneOnce(options),
    everyMs,
    (error) => log(`retention: a round failed, next one in ${everyMs} ms: ${error instanceof Error ? error.message : error}`),
  );
}

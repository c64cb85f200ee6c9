import type { Sql } from '../db/client';
import { foldDaySums } from '../db/reports';
import { repeat } from './repeat';

/**
 * Folds the leads saved since the last round into the funnel report's tables every `everyMs`
 * (migration 0019, `lead_reports_fold`): a save only marks its lead changed, and this works out
 * those leads' milestones afresh and folds the per-day sums, in one statement. It keeps what a
 * report works out beside the stored rows down to a few seconds' worth. Several workers may run it
 * (one folds at a time, the others skip that round). A failed round is logged and the next one
 * retries: the report is exact either way, only slower with a long backlog.
 */
export function startDaySumsFolding(options: { sql: Sql; everyMs?: number; log?: (line: string) => void }) {
  const { sql, everyMs = 5_000, log = () => {} } = options;
  return repeat(
    () => foldDaySums(sql),
    everyMs,
    (error) => log(`day sums: fold failed, retrying in ${everyMs} ms: ${error instanceof Error ? error.message : error}`),
  );
}

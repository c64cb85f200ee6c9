import type { Sql } from '../db/client';
import { foldDaySums } from '../db/reports';
import { repeat } from './repeat';

/**
 * Folds the funnel report's pending per-day changes into its sums every `everyMs` (migration 0017):
 * a lead's save only appends what it changed, so saves never wait on each other; this keeps what a
 * report reads beside the sums down to a few seconds' worth. Several workers may run it (one folds
 * at a time, the others skip that round). A failed round is logged and the next one retries: the
 * report is exact either way, only slower with a long backlog.
 */
export function startDaySumsFolding(options: { sql: Sql; everyMs?: number; log?: (line: string) => void }) {
  const { sql, everyMs = 5_000, log = () => {} } = options;
  return repeat(
    () => foldDaySums(sql),
    everyMs,
    (error) => log(`day sums: fold failed, retrying in ${everyMs} ms: ${error instanceof Error ? error.message : error}`),
  );
}

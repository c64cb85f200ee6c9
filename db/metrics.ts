import type { Sql } from './client';

/**
 * What the worker's gauges read on each scrape. Both are counts over indexes
 * (`leads_status_idx`, `notifications_status_created_idx`), cheap at a scrape every 15 s.
 */
export async function leadsByStatus(sql: Sql): Promise<{ status: string; leads: number }[]> {
  return sql<{ status: string; leads: number }[]>`SELECT status, count(*)::int AS leads FROM leads GROUP BY status`;
}

/** Outbox entries by status, and the age in seconds of the oldest one still pending (0 when none is). */
export async function outboxState(sql: Sql): Promise<{ byStatus: { status: string; entries: number }[]; oldestPendingSeconds: number }> {
  const byStatus = await sql<
    { status: string; entries: number }[]
  >`SELECT status, count(*)::int AS entries FROM notifications GROUP BY status`;
  const [oldest] = await sql<{ seconds: number | null }[]>`
    SELECT extract(epoch FROM now() - min(created_at))::float8 AS seconds FROM notifications WHERE status = 'pending'`;
  return { byStatus, oldestPendingSeconds: oldest?.seconds ?? 0 };
}

/**
 * Changes the worker has not folded into the funnel report's tables yet: lead writes (saves,
 * routings) marked in `lead_changes` (migration 0019), and per-day changes (an erasure's) in
 * `lead_milestone_day_changes` (0017). A few seconds' worth while the worker folds; two small
 * tables, without indexes, emptied by every fold.
 */
export async function reportChangesPending(sql: Sql): Promise<number> {
  const [{ changes }] = await sql<[{ changes: number }]>`
    SELECT ((SELECT count(*) FROM lead_changes) + (SELECT count(*) FROM lead_milestone_day_changes))::int AS changes`;
  return changes;
}

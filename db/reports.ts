import { leadStatuses, type LeadSource, type LeadStatus } from '../domain/lead';
import type { Priority } from '../domain/sla';
import type { Sql } from './client';

/**
 * The funnel report (issue 15), computed in Postgres in one statement. Leads are the cohort
 * captured in [from, to) (of a team, a source, or owned by one rep); aging, rep load and the
 * unassigned queue are the state now, under the same team, source and rep filters.
 */
export interface FunnelFilter {
  from: string;
  to: string;
  teamId?: string;
  source?: LeadSource;
  /** A rep's own numbers: leads it owns, its own load, no unassigned queue. */
  ownerId?: string;
}

export interface Percentiles {
  leads: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
}

/** Speed-to-lead distribution buckets: upper bounds in minutes (the last is open). */
export const responseBuckets = [
  { bucket: '0-5m', maxMinutes: 5 },
  { bucket: '5-15m', maxMinutes: 15 },
  { bucket: '15-60m', maxMinutes: 60 },
  { bucket: '1-4h', maxMinutes: 240 },
  { bucket: '4-24h', maxMinutes: 1440 },
  { bucket: '24h+', maxMinutes: null },
] as const;

/** Lead aging buckets by days since capture (inclusive bounds; the last is open). */
export const agingBuckets = [
  { bucket: '0-7', maxDays: 7 },
  { bucket: '8-30', maxDays: 30 },
  { bucket: '31-90', maxDays: 90 },
  { bucket: '90+', maxDays: null },
] as const;
export type AgingBucket = (typeof agingBuckets)[number]['bucket'];

export interface FunnelReport {
  responseTime: Percentiles & {
    byPriority: (Percentiles & { priority: Priority | null })[];
    byTeam: (Percentiles & { teamId: string | null })[];
    distribution: { bucket: (typeof responseBuckets)[number]['bucket']; leads: number }[];
  };
  sla: {
    measured: number;
    withinSla: number;
    breachedLeads: number;
    breaches: number;
    complianceRate: number | null;
    byDay: { day: string; measured: number; withinSla: number; complianceRate: number | null }[];
  };
  funnel: {
    leads: number;
    mql: number;
    sql: number;
    converted: number;
    mqlToSqlRate: number | null;
    mqlToSqlMedianMs: number | null;
    sqlToConvertedRate: number | null;
    sqlToConvertedMedianMs: number | null;
  };
  aging: { status: LeadStatus; buckets: Record<AgingBucket, number> }[];
  disqualificationReasons: { reason: string; leads: number; share: number }[];
  bySource: { source: LeadSource; leads: number; conversions: number; amount: number }[];
  repFollowUp: { repId: string; acceptedLeads: number; touches: number; touchesPerAcceptedLead: number }[];
  repLoad: { repId: string; teamId: string | null; active: boolean; openLeads: number; capacity: number; utilisation: number | null }[];
  unassigned: { leads: number; oldest: { leadId: string; createdAt: string; ageMs: number } | null } | null;
}

export async function funnelReport(sql: Sql, filter: FunnelFilter): Promise<FunnelReport> {
  const { teamId, source, ownerId } = filter;
  // Every figure reads lead_milestones (db/migrations/0011_reports.sql): one narrow row per lead.
  const leadFilter = sql`${teamId ? sql`AND team_id = ${teamId}` : sql``}
        ${source ? sql`AND source = ${source}` : sql``}
        ${ownerId ? sql`AND owner_id = ${ownerId}` : sql``}`;
  // Bounds go in as timestamptz parameters, read once: as text cast in the query, a scan parses them
  // again for every row (most of the report's time at 100,000 leads). The API's bounds are whole
  // milliseconds, so nothing is lost on the way through a Date.
  const inWindow = sql`created_at >= ${new Date(filter.from)} AND created_at < ${new Date(filter.to)} ${leadFilter}`;
  const bucketCase = responseBuckets
    .map((b, i) => (b.maxMinutes === null ? `ELSE ${i}` : `WHEN response_ms <= ${b.maxMinutes * 60_000} THEN ${i}`))
    .join(' ');
  // Whole days since capture ≤ n  ⇔  captured after now − (n + 1) days. The bounds are worked out
  // here once: timestamp − interval for every row was a good part of the report's time.
  const now = Date.now();
  const before = (days: number) => new Date(now - days * 86_400_000);
  const agingCounts = agingBuckets
    .map((b, i) => {
      const lower = i === 0 ? sql`true` : sql`created_at <= ${before(agingBuckets[i - 1]!.maxDays! + 1)}`;
      const upper = b.maxDays === null ? sql`true` : sql`created_at > ${before(b.maxDays + 1)}`;
      return sql`${b.bucket}::text, count(*) FILTER (WHERE ${lower} AND ${upper})::int`;
    })
    .reduce((all, one) => sql`${all}, ${one}`);
  const known = 'first_assigned_at IS NOT NULL AND (first_response_at IS NOT NULL OR sla_breaches > 0)';
  const within = 'first_assigned_at IS NOT NULL AND first_response_at IS NOT NULL AND sla_breaches = 0';

  const statement = (tx: Sql) => tx<Record<string, any>[]>`
    SELECT
      -- One pass of the window's leads for every count: in all, by source, by disqualification
      -- reason, by owner, by day of first assignment and by response time bucket.
      (SELECT json_agg(g) FROM (
         SELECT GROUPING(source) = 0 AS by_source, GROUPING(status_reason) = 0 AS by_reason, GROUPING(owner_id) = 0 AS by_owner,
                GROUPING(first_assigned_day) = 0 AS by_day, GROUPING(bucket) = 0 AS by_bucket,
                source, status_reason, owner_id, first_assigned_day AS day, bucket,
                count(*)::int AS leads, count(mql_at)::int AS mql, count(sql_at)::int AS sql, count(converted_at)::int AS converted,
                count(converted_at) FILTER (WHERE sql_at IS NOT NULL)::int AS sql_converted,
                COALESCE(sum(amount) FILTER (WHERE converted_at IS NOT NULL), 0)::float8 AS amount,
                count(*) FILTER (WHERE status = 'disqualified')::int AS disqualified,
                count(*) FILTER (WHERE accepted_at IS NOT NULL)::int AS accepted,
                COALESCE(sum(touches) FILTER (WHERE accepted_at IS NOT NULL), 0)::int AS touches,
                count(*) FILTER (WHERE ${sql.unsafe(known)})::int AS measured,
                count(*) FILTER (WHERE ${sql.unsafe(within)})::int AS within_sla,
                count(*) FILTER (WHERE sla_breaches > 0)::int AS breached_leads, COALESCE(sum(sla_breaches), 0)::int AS breaches,
                count(*) FILTER (WHERE response_ms >= 0)::int AS responded
         FROM (SELECT *, CASE WHEN response_ms >= 0 THEN CASE ${sql.unsafe(bucketCase)} END END AS bucket FROM lead_milestones WHERE ${inWindow}) m
         GROUP BY GROUPING SETS ((), (source), (status_reason), (owner_id), (first_assigned_day), (bucket))) g) AS counts,
      -- Percentiles sort: only the leads with a figure to sort.
      (SELECT json_agg(json_build_object('allPriorities', all_priorities, 'allTeams', all_teams, 'priority', priority, 'teamId', team_id,
         'leads', leads, 'p50', round(p[1]), 'p90', round(p[2]), 'p99', round(p[3]), 'mqlToSql', round(mql_to_sql), 'sqlToConverted', round(sql_to_converted)))
       FROM (SELECT GROUPING(priority) AS all_priorities, GROUPING(team_id) AS all_teams, priority, team_id,
                    count(*) FILTER (WHERE response_ms >= 0)::int AS leads,
                    percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY response_ms) FILTER (WHERE response_ms >= 0) AS p,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY mql_to_sql_ms) AS mql_to_sql,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY sql_to_converted_ms) AS sql_to_converted
             FROM lead_milestones
             WHERE ${inWindow} AND (response_ms >= 0 OR mql_to_sql_ms IS NOT NULL OR sql_to_converted_ms IS NOT NULL)
             GROUP BY GROUPING SETS ((), (priority), (team_id))) r) AS response,
      -- The state now, whenever the leads were captured.
      (SELECT json_agg(a) FROM (SELECT status, json_build_object(${agingCounts}) AS buckets
       FROM lead_milestones WHERE status NOT IN ('converted', 'disqualified', 'archived') ${leadFilter} GROUP BY status) a) AS aging,
      (SELECT json_agg(json_build_object('repId', r.id, 'teamId', r.team_id, 'active', r.active, 'capacity', r.capacity, 'openLeads', COALESCE(o.n, 0)) ORDER BY r.id)
       FROM reps r LEFT JOIN (SELECT owner_id, count(*)::int AS n FROM lead_milestones WHERE status IN ('sql', 'accepted') GROUP BY owner_id) o
         ON o.owner_id = r.id
       WHERE true ${teamId ? sql`AND r.team_id = ${teamId}` : sql``} ${ownerId ? sql`AND r.id = ${ownerId}` : sql``}) AS rep_load,
      ${
        ownerId
          ? sql`NULL::json AS unassigned`
          : sql`(SELECT json_build_object('leads', count(*)::int,
               'oldest', (SELECT json_build_object('leadId', q.lead_id, 'createdAt', q.created_at, 'ageMs', round(date_part('epoch', now() - q.created_at) * 1000))
                          FROM lead_milestones q WHERE q.owner_id IS NULL AND q.status = 'sql' ${leadFilter} ORDER BY q.created_at, q.lead_id LIMIT 1))
             FROM lead_milestones WHERE owner_id IS NULL AND status = 'sql' ${leadFilter}) AS unassigned`
      }`;
  // Room to sort and hash the window's rows in memory rather than spill them to disk.
  const [row] = await sql.begin(async (tx) => {
    await tx`SET LOCAL work_mem = '32MB'`;
    return statement(tx as unknown as Sql);
  });
  return shapeReport(row!);
}

/** Rows of the statement → the report: rates computed once here, every list present (empty, not null). */
function shapeReport(row: Record<string, any>): FunnelReport {
  const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);
  const percentiles = (r: any): Percentiles => ({ leads: r?.leads ?? 0, p50Ms: r?.p50 ?? null, p90Ms: r?.p90 ?? null, p99Ms: r?.p99 ?? null });
  const response: any[] = row.response ?? [];
  const overall = response.find((r) => r.allPriorities === 1 && r.allTeams === 1);
  const counts: any[] = row.counts ?? [];
  const funnel = counts.find((g) => !g.by_source && !g.by_reason && !g.by_owner && !g.by_day && !g.by_bucket);
  const byCount = new Map<number, number>(counts.filter((g) => g.by_bucket && g.bucket !== null).map((g) => [g.bucket, g.responded]));
  const aging: { status: LeadStatus; buckets: Record<AgingBucket, number> }[] = row.aging ?? [];
  const breakdown = counts;
  const byLeadsThen = <T extends { leads: number }>(key: (x: T) => string) => (a: T, b: T) => b.leads - a.leads || key(a).localeCompare(key(b));
  // A disqualified lead always has its reason; one without (written before reasons were kept) counts as other.
  const dqCounts = new Map<string, number>();
  for (const g of breakdown) if (g.by_reason && g.disqualified > 0) dqCounts.set(g.status_reason ?? 'other', (dqCounts.get(g.status_reason ?? 'other') ?? 0) + g.disqualified);
  const dqTotal = [...dqCounts.values()].reduce((sum, n) => sum + n, 0);
  return {
    responseTime: {
      ...percentiles(overall),
      byPriority: response.filter((r) => r.allPriorities === 0 && r.leads > 0).map((r) => ({ priority: r.priority, ...percentiles(r) })),
      byTeam: response.filter((r) => r.allTeams === 0 && r.leads > 0).map((r) => ({ teamId: r.teamId, ...percentiles(r) })),
      distribution: responseBuckets.map((b, i) => ({ bucket: b.bucket, leads: byCount.get(i) ?? 0 })),
    },
    sla: {
      measured: funnel.measured,
      withinSla: funnel.within_sla,
      breachedLeads: funnel.breached_leads,
      breaches: funnel.breaches,
      complianceRate: rate(funnel.within_sla, funnel.measured),
      byDay: counts
        .filter((g) => g.by_day && g.day !== null && g.measured > 0)
        .map((g) => ({ day: g.day as string, measured: g.measured as number, withinSla: g.within_sla as number, complianceRate: rate(g.within_sla, g.measured) }))
        .sort((a, b) => (a.day < b.day ? -1 : 1)),
    },
    funnel: {
      leads: funnel.leads,
      mql: funnel.mql,
      sql: funnel.sql,
      converted: funnel.converted,
      mqlToSqlRate: rate(funnel.sql, funnel.mql),
      mqlToSqlMedianMs: overall?.mqlToSql ?? null,
      sqlToConvertedRate: rate(funnel.sql_converted, funnel.sql),
      sqlToConvertedMedianMs: overall?.sqlToConverted ?? null,
    },
    aging: aging.sort((a, b) => leadStatuses.indexOf(a.status) - leadStatuses.indexOf(b.status)),
    disqualificationReasons: [...dqCounts]
      .map(([reason, leads]) => ({ reason, leads, share: leads / dqTotal }))
      .sort(byLeadsThen((d) => d.reason)),
    bySource: breakdown
      .filter((g) => g.by_source)
      .map((g) => ({ source: g.source as LeadSource, leads: g.leads as number, conversions: g.converted as number, amount: g.amount as number }))
      .sort(byLeadsThen((s) => s.source)),
    repFollowUp: breakdown
      .filter((g) => g.by_owner && g.owner_id !== null && g.accepted > 0)
      .map((g) => ({ repId: g.owner_id as string, acceptedLeads: g.accepted as number, touches: g.touches as number, touchesPerAcceptedLead: g.touches / g.accepted }))
      .sort((a, b) => (a.repId < b.repId ? -1 : a.repId > b.repId ? 1 : 0)),
    repLoad: (row.rep_load ?? []).map((r: any) => ({ ...r, utilisation: rate(r.openLeads, r.capacity) })),
    unassigned: row.unassigned && {
      leads: row.unassigned.leads,
      oldest: row.unassigned.oldest && { ...row.unassigned.oldest, createdAt: new Date(row.unassigned.oldest.createdAt).toISOString() },
    },
  };
}

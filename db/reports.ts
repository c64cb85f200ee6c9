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
  const leadFilter = (alias: string) =>
    sql`${teamId ? sql`AND ${sql(alias)}.team_id = ${teamId}` : sql``}
        ${source ? sql`AND ${sql(alias)}.source = ${source}` : sql``}
        ${ownerId ? sql`AND ${sql(alias)}.owner_id = ${ownerId}` : sql``}`;
  const bucketCase = responseBuckets
    .map((b, i) => (b.maxMinutes === null ? `ELSE ${i}` : `WHEN ms <= ${b.maxMinutes * 60_000} THEN ${i}`))
    .join(' ');
  const agingCase = agingBuckets.map((b) => (b.maxDays === null ? `ELSE '${b.bucket}'` : `WHEN days <= ${b.maxDays} THEN '${b.bucket}'`)).join(' ');

  // Bounds go in as text (as in db/leads.ts), so their microseconds survive.
  const [row] = await sql<Record<string, any>[]>`
    WITH cohort AS MATERIALIZED (
      SELECT l.lead_id, l.status, l.status_reason, l.source, l.team_id, l.owner_id, l.priority, l.sla_breaches,
             m.mql_at, m.sql_at, m.accepted_at, m.converted_at, m.amount, m.first_assigned_at, m.first_response_at,
             COALESCE(m.touches, 0) AS touches,
             extract(epoch FROM m.first_response_at - m.first_assigned_at) * 1000 AS response_ms
      FROM leads l LEFT JOIN lead_milestones m USING (lead_id)
      WHERE l.created_at >= ${filter.from}::text::timestamptz AND l.created_at < ${filter.to}::text::timestamptz
        ${leadFilter('l')}
    ),
    responded AS (
      SELECT priority, team_id, response_ms AS ms FROM cohort WHERE response_ms >= 0
    ),
    response AS (
      SELECT GROUPING(priority) AS all_priorities, GROUPING(team_id) AS all_teams, priority, team_id, count(*)::int AS leads,
             percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ms) AS p
      FROM responded GROUP BY GROUPING SETS ((), (priority), (team_id))
    ),
    sla_leads AS (
      SELECT first_assigned_at, (first_response_at IS NOT NULL AND sla_breaches = 0) AS within
      FROM cohort WHERE first_assigned_at IS NOT NULL AND (first_response_at IS NOT NULL OR sla_breaches > 0)
    ),
    aging AS (
      SELECT status, CASE ${sql.unsafe(agingCase)} END AS bucket, count(*)::int AS leads
      FROM (SELECT l.status, floor(extract(epoch FROM now() - l.created_at) / 86400) AS days
            FROM leads l WHERE l.status NOT IN ('converted', 'disqualified', 'archived') ${leadFilter('l')}) a
      GROUP BY 1, 2
    )
    SELECT
      (SELECT json_agg(json_build_object('allPriorities', all_priorities, 'allTeams', all_teams, 'priority', priority, 'teamId', team_id,
         'leads', leads, 'p50', round(p[1]), 'p90', round(p[2]), 'p99', round(p[3])))
       FROM response) AS response,
      (SELECT json_agg(json_build_object('i', i, 'leads', n) ORDER BY i)
       FROM (SELECT CASE ${sql.unsafe(bucketCase)} END AS i, count(*)::int AS n FROM responded GROUP BY 1) d) AS distribution,
      (SELECT json_build_object(
         'measured', count(*)::int, 'withinSla', count(*) FILTER (WHERE within)::int)
       FROM sla_leads) AS sla,
      (SELECT json_build_object('breachedLeads', count(*) FILTER (WHERE sla_breaches > 0)::int, 'breaches', COALESCE(sum(sla_breaches), 0)::int)
       FROM cohort) AS breaches,
      (SELECT json_agg(json_build_object('day', day, 'measured', measured, 'withinSla', within) ORDER BY day)
       FROM (SELECT to_char(date_trunc('day', first_assigned_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
                    count(*)::int AS measured, count(*) FILTER (WHERE within)::int AS within
             FROM sla_leads GROUP BY 1) d) AS sla_by_day,
      (SELECT json_build_object(
         'leads', count(*)::int, 'mql', count(mql_at)::int, 'sql', count(sql_at)::int, 'converted', count(converted_at)::int,
         'sqlConverted', count(converted_at) FILTER (WHERE sql_at IS NOT NULL)::int,
         'mqlToSqlMedianMs', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sql_at - mql_at) * 1000)),
         'sqlToConvertedMedianMs', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM converted_at - sql_at) * 1000)))
       FROM cohort) AS funnel,
      (SELECT json_agg(json_build_object('status', status, 'bucket', bucket, 'leads', leads)) FROM aging) AS aging,
      (SELECT json_agg(json_build_object('reason', reason, 'leads', n) ORDER BY n DESC, reason)
       FROM (SELECT COALESCE(status_reason, 'other') AS reason, count(*)::int AS n FROM cohort WHERE status = 'disqualified' GROUP BY 1) d) AS dq,
      (SELECT json_agg(json_build_object('source', source, 'leads', n, 'conversions', c, 'amount', a) ORDER BY n DESC, source)
       FROM (SELECT source, count(*)::int AS n, count(converted_at)::int AS c,
                    COALESCE(sum(amount) FILTER (WHERE converted_at IS NOT NULL), 0)::float8 AS a
             FROM cohort GROUP BY source) s) AS by_source,
      (SELECT json_agg(json_build_object('repId', owner_id, 'acceptedLeads', n, 'touches', t) ORDER BY owner_id)
       FROM (SELECT owner_id, count(*)::int AS n, sum(touches)::int AS t
             FROM cohort WHERE accepted_at IS NOT NULL AND owner_id IS NOT NULL GROUP BY owner_id) f) AS follow_up,
      (SELECT json_agg(json_build_object('repId', r.id, 'teamId', r.team_id, 'active', r.active, 'capacity', r.capacity,
         'openLeads', (SELECT count(*)::int FROM leads o WHERE o.owner_id = r.id AND o.status IN ('sql', 'accepted'))) ORDER BY r.id)
       FROM reps r WHERE true
         ${teamId ? sql`AND r.team_id = ${teamId}` : sql``}
         ${ownerId ? sql`AND r.id = ${ownerId}` : sql``}) AS rep_load,
      ${
        ownerId
          ? sql`NULL::json AS unassigned`
          : sql`(SELECT json_build_object('leads', count(*)::int,
               'oldest', (SELECT json_build_object('leadId', q.lead_id, 'createdAt', q.created_at, 'ageMs', round(extract(epoch FROM now() - q.created_at) * 1000))
                          FROM leads q WHERE q.owner_id IS NULL AND q.status = 'sql' ${leadFilter('q')} ORDER BY q.created_at, q.lead_id LIMIT 1))
             FROM leads u WHERE u.owner_id IS NULL AND u.status = 'sql' ${leadFilter('u')}) AS unassigned`
      }`;
  return shapeReport(row!);
}

/** Rows of the statement → the report: rates computed once here, every list present (empty, not null). */
function shapeReport(row: Record<string, any>): FunnelReport {
  const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);
  const percentiles = (r: any): Percentiles => ({ leads: r?.leads ?? 0, p50Ms: r?.p50 ?? null, p90Ms: r?.p90 ?? null, p99Ms: r?.p99 ?? null });
  const response: any[] = row.response ?? [];
  const overall = response.find((r) => r.allPriorities === 1 && r.allTeams === 1);
  const byCount = new Map<number, number>((row.distribution ?? []).map((d: any) => [d.i, d.leads]));
  const sla = row.sla as { measured: number; withinSla: number };
  const funnel = row.funnel;
  const aging = new Map<LeadStatus, Record<AgingBucket, number>>();
  for (const a of row.aging ?? []) {
    const buckets = aging.get(a.status) ?? (Object.fromEntries(agingBuckets.map((b) => [b.bucket, 0])) as Record<AgingBucket, number>);
    buckets[a.bucket as AgingBucket] = a.leads;
    aging.set(a.status, buckets);
  }
  const dq: { reason: string; leads: number }[] = row.dq ?? [];
  const dqTotal = dq.reduce((sum, d) => sum + d.leads, 0);
  return {
    responseTime: {
      ...percentiles(overall),
      byPriority: response.filter((r) => r.allPriorities === 0).map((r) => ({ priority: r.priority, ...percentiles(r) })),
      byTeam: response.filter((r) => r.allTeams === 0).map((r) => ({ teamId: r.teamId, ...percentiles(r) })),
      distribution: responseBuckets.map((b, i) => ({ bucket: b.bucket, leads: byCount.get(i) ?? 0 })),
    },
    sla: {
      measured: sla.measured,
      withinSla: sla.withinSla,
      breachedLeads: row.breaches.breachedLeads,
      breaches: row.breaches.breaches,
      complianceRate: rate(sla.withinSla, sla.measured),
      byDay: (row.sla_by_day ?? []).map((d: any) => ({ day: d.day, measured: d.measured, withinSla: d.withinSla, complianceRate: rate(d.withinSla, d.measured) })),
    },
    funnel: {
      leads: funnel.leads,
      mql: funnel.mql,
      sql: funnel.sql,
      converted: funnel.converted,
      mqlToSqlRate: rate(funnel.sql, funnel.mql),
      mqlToSqlMedianMs: funnel.mqlToSqlMedianMs,
      sqlToConvertedRate: rate(funnel.sqlConverted, funnel.sql),
      sqlToConvertedMedianMs: funnel.sqlToConvertedMedianMs,
    },
    aging: [...aging].map(([status, buckets]) => ({ status, buckets })).sort((a, b) => leadStatuses.indexOf(a.status) - leadStatuses.indexOf(b.status)),
    disqualificationReasons: dq.map((d) => ({ ...d, share: d.leads / dqTotal })),
    bySource: row.by_source ?? [],
    repFollowUp: (row.follow_up ?? []).map((f: any) => ({ ...f, touchesPerAcceptedLead: f.touches / f.acceptedLeads })),
    repLoad: (row.rep_load ?? []).map((r: any) => ({ ...r, utilisation: rate(r.openLeads, r.capacity) })),
    unassigned: row.unassigned && {
      leads: row.unassigned.leads,
      oldest: row.unassigned.oldest && { ...row.unassigned.oldest, createdAt: new Date(row.unassigned.oldest.createdAt).toISOString() },
    },
  };
}

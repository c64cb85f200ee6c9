import { closedStatuses, leadStatuses, type LeadSource, type LeadStatus } from '../domain/lead';
import type { Priority } from '../domain/sla';
import type { Sql } from './client';

const dayMs = 86_400_000;

/**
 * The funnel report, computed in Postgres in one statement. Leads are the cohort
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

/** Counts summed per facet: the columns of `lead_milestone_days` (db/migrations/0017_report_days.sql); the tests compare them by this list. */
export const counters = [
  'leads',
  'mql',
  'sql',
  'converted',
  'sql_converted',
  'amount',
  'disqualified',
  'accepted',
  'touches',
  'measured',
  'within_sla',
  'breached_leads',
  'breaches',
  'responded',
] as const;
type FacetRow = { facet: string; value: string } & Record<(typeof counters)[number], number>;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Every figure reads lead_milestones (db/migrations/0011_reports.sql, one narrow row per lead) or
 * its sums per capture day (0017). Both as they will be once the worker has folded the leads saved
 * since its last fold (0019): `lead_milestones_live` has those leads' rows worked out afresh from
 * `leads` and `lead_events`, `lead_milestone_day_totals` the folded sums, the changes not folded
 * yet, and what those leads will change in them. So a report read right after a save counts it.
 * A window's whole UTC days come from the sums; its partial first and last days, and
 * every report filtered by team, source or rep, group the leads' own rows by the same facets
 * (`lead_milestone_counts`). The percentiles always sort the leads' own durations, read from the
 * index that holds only leads with one.
 * `days: false` reads the leads' rows only (tests compare the two).
 */
export async function funnelReport(sql: Sql, filter: FunnelFilter, options: { days?: boolean } = {}): Promise<FunnelReport> {
  const { teamId, source, ownerId } = filter;
  const filtered = Boolean(teamId || source || ownerId);
  const useDays = options.days !== false && !filtered;
  const leadFilter = sql`${teamId ? sql`AND team_id = ${teamId}` : sql``}
        ${source ? sql`AND source = ${source}` : sql``}
        ${ownerId ? sql`AND owner_id = ${ownerId}` : sql``}`;
  // lead_milestones and its per-day sums as they will be once the worker has folded the leads saved
  // since its last fold (migration 0019), as the views lead_milestones_live and
  // lead_milestone_day_totals define them: here with those leads' rows worked out afresh once per
  // statement (`changed`, materialized), where each reference to the views would work them out
  // again. Every part reads with the statement's one snapshot: the same leads changed throughout.
  const changed = sql`changed AS MATERIALIZED (SELECT * FROM lead_milestones_changed())`;
  const milestones = sql`(SELECT * FROM lead_milestones WHERE lead_id NOT IN (SELECT lead_id FROM lead_changes) UNION ALL SELECT * FROM changed)`;
  const dayTotals = sql`(
    SELECT * FROM lead_milestone_days
    UNION ALL SELECT * FROM lead_milestone_day_changes
    UNION ALL SELECT f.* FROM changed m CROSS JOIN LATERAL lead_milestone_facets(m::lead_milestones) f
    UNION ALL SELECT f.day, f.facet, f.value, ${sql.unsafe(counters.map((c) => `-f.${c}`).join(', '))}
    FROM lead_milestones m CROSS JOIN LATERAL lead_milestone_facets(m) f WHERE m.lead_id = ANY (ARRAY(SELECT lead_id FROM lead_changes)))`;
  // Bounds go in as timestamptz parameters, read once: as text cast in the query, a scan parses them
  // again for every row. The API's bounds are whole milliseconds, so nothing is lost through a Date.
  const from = Date.parse(filter.from);
  const to = Date.parse(filter.to);
  const inWindow = sql`created_at >= ${new Date(from)} AND created_at < ${new Date(to)} ${leadFilter}`;
  // The sums of the days [firstDay, endDay), plus the leads' rows of the first day's part in the
  // window, less those of the last day's part after it. A window that ends now (the default) has
  // next to nothing after it: today, where most changes are, comes from the sums too.
  const firstDay = Math.ceil(from / dayMs) * dayMs;
  const endDay = Math.ceil(to / dayMs) * dayMs;
  const wholeDays = useDays && firstDay < endDay;
  const sums = (of = '', sign = 1) =>
    sql.unsafe(counters.map((c) => `${sign} * COALESCE(sum(${of}${c}), 0)::${c === 'amount' ? 'float8' : 'int'} AS ${c}`).join(', '));
  // The leads' own rows, grouped by each facet in one pass (lead_milestone_counts, 0017): rows of
  // the same shape as the sums. A lead with no value in a facet (null) is not in it.
  const fromRows = (where: typeof inWindow, sign = 1) => sql`
    SELECT facet, COALESCE(source, reason, owner, assigned_day, bucket, '') AS value, ${sql.unsafe(counters.join(', '))} FROM (
      SELECT CASE WHEN GROUPING(c.source) = 0 THEN 'source' WHEN GROUPING(c.reason) = 0 THEN 'reason' WHEN GROUPING(c.owner) = 0 THEN 'owner'
                  WHEN GROUPING(c.assigned_day) = 0 THEN 'assigned_day' WHEN GROUPING(c.bucket) = 0 THEN 'bucket' ELSE 'all' END AS facet,
             c.source, c.reason, c.owner, c.assigned_day, c.bucket, ${sums('c.', sign)}
      FROM (SELECT * FROM ${milestones} l WHERE ${where}) m CROSS JOIN LATERAL lead_milestone_counts(m::lead_milestones) c
      GROUP BY GROUPING SETS ((), (c.source), (c.reason), (c.owner), (c.assigned_day), (c.bucket))) g
    WHERE facet = 'all' OR COALESCE(source, reason, owner, assigned_day, bucket) IS NOT NULL`;
  const counts = wholeDays
    ? sql`SELECT facet, value, ${sums()} FROM (
          SELECT facet, value, ${sql.unsafe(counters.join(', '))} FROM ${dayTotals} t
          WHERE facet <> 'status' AND day >= ${utcDay(firstDay)}::date AND day < ${utcDay(endDay)}::date
          UNION ALL
          ${fromRows(sql`created_at >= ${new Date(from)} AND created_at < ${new Date(firstDay)}`)}
          UNION ALL
          ${fromRows(sql`created_at >= ${new Date(to)} AND created_at < ${new Date(endDay)}`, -1)}
        ) c GROUP BY facet, value`
    : fromRows(inWindow);

  // Aging: whole days since capture ≤ n  ⇔  captured after now − (n + 1) days. The bounds are worked
  // out here once. Every lead of a day that holds no bound is in the same bucket as the day's
  // midnight, so those days come from the sums; the days that hold a bound, from the rows.
  const now = Date.now();
  const before = (days: number) => now - days * dayMs;
  const bounds = agingBuckets.filter((b) => b.maxDays !== null).map((b) => before(b.maxDays! + 1));
  const agingCounts = agingBuckets
    .map((b, i) => {
      const lower = i === 0 ? sql`true` : sql`created_at <= ${new Date(bounds[i - 1]!)}`;
      const upper = b.maxDays === null ? sql`true` : sql`created_at > ${new Date(bounds[i]!)}`;
      return sql`${b.bucket}::text, COALESCE(sum(n) FILTER (WHERE ${lower} AND ${upper}), 0)::int`;
    })
    .reduce((all, one) => sql`${all}, ${one}`);
  const boundDays = [...new Set(bounds.map((b) => Math.floor(b / dayMs) * dayMs))];
  const openLeads = useDays
    ? sql`SELECT value AS status, day::timestamp AT TIME ZONE 'UTC' AS created_at, leads AS n FROM ${dayTotals} t
          WHERE facet = 'status' AND value <> ALL(${closedStatuses as string[]}) AND day <> ALL(${boundDays.map(utcDay)}::date[])
          UNION ALL
          SELECT status, created_at, 1 FROM ${milestones} l
          WHERE status <> ALL(${closedStatuses as string[]})
            AND (${boundDays.map((d) => sql`(created_at >= ${new Date(d)} AND created_at < ${new Date(d + dayMs)})`).reduce((all, one) => sql`${all} OR ${one}`)})`
    : sql`SELECT status, created_at, 1 AS n FROM ${milestones} l WHERE status <> ALL(${closedStatuses as string[]}) ${leadFilter}`;

  // The predicate of lead_milestones_durations_idx, so the planner reads that index.
  const durations = sql`${inWindow} AND (response_ms >= 0 OR mql_to_sql_ms IS NOT NULL OR sql_to_converted_ms IS NOT NULL)`;
  // Two statements on two connections at once, each over what it reads: the counts and the state
  // now, and the percentiles, which sort. Each sees its own snapshot; no figure mixes the two.
  const counted = (tx: Sql) => tx<Record<string, any>[]>`
    WITH ${changed}
    SELECT
      (SELECT json_agg(c) FROM (${counts}) c) AS counts,
      -- The state now, whenever the leads were captured.
      (SELECT json_agg(a) FROM (SELECT status, json_build_object(${agingCounts}) AS buckets
       FROM (${openLeads}) o GROUP BY status HAVING sum(n) > 0) a) AS aging,
      (SELECT json_agg(json_build_object('repId', r.id, 'teamId', r.team_id, 'active', r.active, 'capacity', r.capacity, 'openLeads', COALESCE(o.n, 0)) ORDER BY r.id)
       FROM reps r LEFT JOIN (SELECT owner_id, count(*)::int AS n FROM ${milestones} l WHERE status IN ('sql', 'accepted') GROUP BY owner_id) o
         ON o.owner_id = r.id
       WHERE true ${teamId ? sql`AND r.team_id = ${teamId}` : sql``} ${ownerId ? sql`AND r.id = ${ownerId}` : sql``}) AS rep_load,
      ${
        ownerId
          ? sql`NULL::json AS unassigned`
          : sql`(SELECT json_build_object('leads', count(*)::int,
               'oldest', (SELECT json_build_object('leadId', q.lead_id, 'createdAt', q.created_at, 'ageMs', round(date_part('epoch', now() - q.created_at) * 1000))
                          FROM ${milestones} q WHERE q.owner_id IS NULL AND q.status = 'sql' ${leadFilter} ORDER BY q.created_at, q.lead_id LIMIT 1))
             FROM ${milestones} l WHERE owner_id IS NULL AND status = 'sql' ${leadFilter}) AS unassigned`
      }`;
  const sorted = (tx: Sql) => tx<Record<string, any>[]>`
    WITH ${changed}
    SELECT
      -- Percentiles sort: only the leads with a figure to sort, read from the index that holds just those.
      (SELECT json_agg(json_build_object('allPriorities', all_priorities, 'allTeams', all_teams, 'priority', priority, 'teamId', team_id,
         'leads', leads, 'p50', round(p[1]), 'p90', round(p[2]), 'p99', round(p[3])))
       FROM (SELECT GROUPING(priority) AS all_priorities, GROUPING(team_id) AS all_teams, priority, team_id, count(*)::int AS leads,
                    percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY response_ms) AS p
             FROM ${milestones} l WHERE ${durations} AND response_ms >= 0
             GROUP BY GROUPING SETS ((), (priority), (team_id))) r) AS response,
      (SELECT json_build_object('mqlToSql', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY mql_to_sql_ms)),
                                'sqlToConverted', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY sql_to_converted_ms)))
       FROM ${milestones} l WHERE ${durations}) AS medians`;
  // Room to sort and hash the window's rows in memory rather than spill them to disk.
  const run = (statement: (tx: Sql) => Promise<Record<string, any>[]>) =>
    sql.begin(async (tx) => {
      await tx`SET LOCAL work_mem = '32MB'`;
      const [row] = await statement(tx as unknown as Sql);
      return row!;
    });
  const [countRow, sortRow] = await Promise.all([run(counted), run(sorted)]);
  return shapeReport({ ...countRow, ...sortRow });
}

/** Rows of the statement → the report: rates computed once here, every list present (empty, not null). */
function shapeReport(row: Record<string, any>): FunnelReport {
  const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);
  const percentiles = (r: any): Percentiles => ({
    leads: r?.leads ?? 0,
    p50Ms: r?.p50 ?? null,
    p90Ms: r?.p90 ?? null,
    p99Ms: r?.p99 ?? null,
  });
  const response: any[] = row.response ?? [];
  const overall = response.find((r) => r.allPriorities === 1 && r.allTeams === 1);
  const rows: FacetRow[] = row.counts ?? [];
  const facet = (name: string) => rows.filter((r) => r.facet === name);
  const funnel = facet('all')[0] ?? (Object.fromEntries(counters.map((c) => [c, 0])) as unknown as FacetRow);
  const byCount = new Map<number, number>(facet('bucket').map((g) => [Number(g.value), g.responded]));
  const aging: { status: LeadStatus; buckets: Record<AgingBucket, number> }[] = row.aging ?? [];
  const byLeadsThen =
    <T extends { leads: number }>(key: (x: T) => string) =>
    (a: T, b: T) =>
      b.leads - a.leads || key(a).localeCompare(key(b));
  // A disqualified lead always has its reason; one without (written before reasons were kept) counts as other.
  const dq = facet('reason').filter((g) => g.disqualified > 0);
  const dqTotal = dq.reduce((sum, g) => sum + g.disqualified, 0);
  return {
    responseTime: {
      ...percentiles(overall),
      byPriority: response.filter((r) => r.allPriorities === 0).map((r) => ({ priority: r.priority, ...percentiles(r) })),
      byTeam: response.filter((r) => r.allTeams === 0).map((r) => ({ teamId: r.teamId, ...percentiles(r) })),
      distribution: responseBuckets.map((b, i) => ({ bucket: b.bucket, leads: byCount.get(i) ?? 0 })),
    },
    sla: {
      measured: funnel.measured,
      withinSla: funnel.within_sla,
      breachedLeads: funnel.breached_leads,
      breaches: funnel.breaches,
      complianceRate: rate(funnel.within_sla, funnel.measured),
      byDay: facet('assigned_day')
        .filter((g) => g.measured > 0)
        .map((g) => ({ day: g.value, measured: g.measured, withinSla: g.within_sla, complianceRate: rate(g.within_sla, g.measured) }))
        .sort((a, b) => (a.day < b.day ? -1 : 1)),
    },
    funnel: {
      leads: funnel.leads,
      mql: funnel.mql,
      sql: funnel.sql,
      converted: funnel.converted,
      mqlToSqlRate: rate(funnel.sql, funnel.mql),
      mqlToSqlMedianMs: row.medians?.mqlToSql ?? null,
      sqlToConvertedRate: rate(funnel.sql_converted, funnel.sql),
      sqlToConvertedMedianMs: row.medians?.sqlToConverted ?? null,
    },
    aging: aging.sort((a, b) => leadStatuses.indexOf(a.status) - leadStatuses.indexOf(b.status)),
    disqualificationReasons: dq
      .map((g) => ({ reason: g.value, leads: g.disqualified, share: g.disqualified / dqTotal }))
      .sort(byLeadsThen((d) => d.reason)),
    bySource: facet('source')
      .filter((g) => g.leads > 0)
      .map((g) => ({ source: g.value as LeadSource, leads: g.leads, conversions: g.converted, amount: g.amount }))
      .sort(byLeadsThen((s) => s.source)),
    repFollowUp: facet('owner')
      .filter((g) => g.accepted > 0)
      .map((g) => ({ repId: g.value, acceptedLeads: g.accepted, touches: g.touches, touchesPerAcceptedLead: g.touches / g.accepted }))
      .sort((a, b) => (a.repId < b.repId ? -1 : a.repId > b.repId ? 1 : 0)),
    repLoad: (row.rep_load ?? []).map((r: any) => ({ ...r, utilisation: rate(r.openLeads, r.capacity) })),
    unassigned: row.unassigned && {
      leads: row.unassigned.leads,
      oldest: row.unassigned.oldest && { ...row.unassigned.oldest, createdAt: new Date(row.unassigned.oldest.createdAt).toISOString() },
    },
  };
}

/**
 * Folds the leads changed since the last fold into the report's tables (migration 0019,
 * `lead_reports_fold`): their lead_milestones rows written afresh, then the per-day sums. Answers
 * how many changes it took (0 when another fold is under way).
 */
export async function foldDaySums(sql: Sql): Promise<number> {
  const [{ folded }] = await sql<[{ folded: number }]>`SELECT lead_reports_fold() AS folded`;
  return folded;
}

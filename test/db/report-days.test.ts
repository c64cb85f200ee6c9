import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../db/client';
import { findLead, writeLead } from '../../db/leads';
import { reportChangesPending } from '../../db/metrics';
import { eraseLeadRows } from '../../db/privacy';
import { counters as counterList, foldDaySums, funnelReport, type FunnelReport } from '../../db/reports';
import type { LeadSource, LeadStatus } from '../../domain/lead';
import { startDaySumsFolding } from '../../worker/day-sums';
import { freshDatabase } from '../support/helpers';
import { seedLead } from '../support/seed-leads';

// The funnel report's per-day sums (lead_milestone_days, migration 0017) and its per-lead rows
// (lead_milestones, 0011) against a recount from the leads and their timelines themselves: saves
// only mark their lead changed (0019) and the worker's fold writes both afresh, and what a report
// reads must equal the recount through every change, before the fold and after it; a report read
// from the sums must equal one read from the rows. A database of its own: the checks cover every
// lead there is.
let sql: Sql;
beforeAll(async () => {
  sql = createSql(await freshDatabase('report_days'), { max: 24 });
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
});

const min = 60_000;
const hour = 60 * min;
const dayMs = 24 * hour;
const start = Date.parse('2005-03-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const sources: LeadSource[] = ['demo_request', 'webinar', 'newsletter', 'chat'];

const summed = (of: string) => counterList.map((c) => `sum(${of}${c})${c === 'amount' ? '' : '::int'} AS ${c}`).join(', ');
// Sums that went back to zero stay as rows (a lead moved on from that facet); the recount has none.
const nonZero = counterList.map((c) => `sum(${c}) <> 0`).join(' OR ');

/**
 * Rows of the sums as a report reads them (lead_milestone_day_totals: folded, not folded yet, and
 * what the leads changed since the fold will change) that differ from the same sums recounted
 * from `leads` and `lead_events` (lead_milestones_fresh: every lead's row worked out afresh).
 */
async function sumsDrift(): Promise<unknown[]> {
  return sql.unsafe(`
    WITH kept AS (
      SELECT day, facet, value, ${summed('')} FROM lead_milestone_day_totals GROUP BY day, facet, value HAVING (${nonZero})
    ), fresh AS (
      SELECT f.day, f.facet, f.value, ${summed('f.')}
      FROM (SELECT * FROM lead_milestones_fresh) m CROSS JOIN LATERAL lead_milestone_facets(m::lead_milestones) f
      GROUP BY f.day, f.facet, f.value
    )
    (SELECT 'kept only' AS side, * FROM (TABLE kept EXCEPT TABLE fresh) a)
    UNION ALL
    (SELECT 'fresh only', * FROM (TABLE fresh EXCEPT TABLE kept) b)`);
}

/** Rows of leads whose row as a report reads it (lead_milestones_live), or as lead_milestones holds it, differs from the recount. */
async function rowsDrift(of: 'lead_milestones_live' | 'lead_milestones' = 'lead_milestones_live'): Promise<unknown[]> {
  return sql.unsafe(`
    (SELECT 'kept only' AS side, * FROM (SELECT * FROM ${of} EXCEPT SELECT * FROM lead_milestones_fresh) a)
    UNION ALL
    (SELECT 'fresh only', * FROM (SELECT * FROM lead_milestones_fresh EXCEPT SELECT * FROM ${of}) b)`);
}

/** Neither the sums nor the rows a report reads differ from the recount. */
async function drift(): Promise<unknown[]> {
  return [...(await sumsDrift()), ...(await rowsDrift())];
}

/** Lead saves and per-day changes the fold has not taken yet (the worker's `lead_report_changes_pending`). */
const pendingChanges = () => reportChangesPending(sql);

/** A write to a lead's row as the read model's writes do it: marked changed for the fold in the same statement. */
const changeLead = (leadId: string, set: string) =>
  sql.unsafe(
    `WITH changed AS (UPDATE leads SET ${set} WHERE lead_id = $1 RETURNING lead_id) INSERT INTO lead_changes SELECT lead_id FROM changed`,
    [leadId],
  );

describe('the funnel report per-day sums', () => {
  const leadIds: string[] = [];
  beforeAll(async () => {
    // 24 leads over six days, at hours that put some in each day's first and last quarter.
    for (let i = 0; i < 24; i++) {
      const createdAt = start + Math.floor(i / 4) * dayMs + (i % 4) * 7 * hour + 30 * min;
      const reached = i % 3 !== 0;
      const events: [string, number, Record<string, unknown>?][] = [['status_changed', 10 * min, { status: 'mql' }]];
      if (reached) events.push(['status_changed', hour, { status: 'sql' }], ['assigned', hour]);
      if (reached && i % 2 === 0)
        events.push(['responded', hour + i * 4 * min], ['status_changed', hour + i * 4 * min, { status: 'accepted' }], ['touch', 2 * hour]);
      if (i % 5 === 0) events.push(['sla_breached', 2 * hour]);
      const status: LeadStatus = reached ? (i % 2 === 0 ? 'accepted' : 'sql') : 'mql';
      leadIds.push(
        await seedLead(sql, {
          createdAt,
          source: sources[i % sources.length]!,
          status,
          teamId: reached ? 'team-x' : undefined,
          ownerId: reached ? `rep-${i % 3}` : undefined,
          priority: reached ? 'P1' : undefined,
          breaches: i % 5 === 0 ? 1 : 0,
          events,
        }),
      );
    }
    // Open leads an hour either side of each aging bound (8, 31 and 91 days ago): the days that hold
    // a bound are read from the rows, the others from the sums.
    const now = Date.now();
    for (const days of [8, 31, 91]) {
      for (const offset of [-hour, hour, -5 * hour]) {
        await seedLead(sql, { createdAt: now - days * dayMs + offset, source: 'chat', status: offset > 0 ? 'new' : 'mql' });
      }
    }
  });

  it('equal a recount from the leads and their timelines through captures, timelines, status, owner and capture-time changes, and erasure, folded or not', async () => {
    // A save fires no report trigger: it marks its lead changed, in the statement that writes it.
    // (The reps' open-lead counts of migration 0023 and the erasure guard of 0028 are the only triggers on leads, not the report's.)
    const triggers = await sql`
      SELECT tgrelid::regclass::text AS table, tgname FROM pg_trigger
      WHERE NOT tgisinternal AND tgrelid IN ('leads'::regclass, 'lead_events'::regclass, 'lead_changes'::regclass, 'notifications'::regclass)
        AND tgname NOT LIKE 'rep_open_leads_%' AND tgname <> 'leads_save_guard'`;
    expect(triggers).toEqual([]);
    // Not folded yet: the stored rows lag behind (the seeded leads have none), what a report reads does not.
    expect(await pendingChanges()).toBeGreaterThan(0);
    expect(await rowsDrift('lead_milestones')).not.toEqual([]);
    expect(await drift()).toEqual([]);
    expect(await foldDaySums(sql)).toBeGreaterThan(0);
    expect(await pendingChanges()).toBe(0);
    expect(await rowsDrift('lead_milestones')).toEqual([]);
    expect(await drift()).toEqual([]);
    const [{ days }] = await sql<
      [{ days: number }]
    >`SELECT count(DISTINCT day)::int AS days FROM lead_milestone_days WHERE facet = 'all' AND leads > 0 AND day < '2006-01-01'`;
    expect(days).toBe(6);

    // A conversion with an amount, a disqualification with its reason, an owner change, a lead
    // moved to another day, more touches: each a lead's save, marked as the read model marks them.
    await changeLead(leadIds[2]!, `status = 'converted'`);
    await sql`
      WITH added AS (
        INSERT INTO lead_events (lead_id, event_key, at, type, actor, data) VALUES
          (${leadIds[2]!}, 'later:1', ${iso(start + 3 * dayMs)}, 'status_changed', 'system', ${sql.json({ status: 'converted' })}),
          (${leadIds[2]!}, 'later:2', ${iso(start + 3 * dayMs)}, 'converted', 'system', ${sql.json({ opportunity: { amount: 1234.5 } })}),
          (${leadIds[4]!}, 'later:1', ${iso(start + 4 * dayMs)}, 'touch', 'system', ${sql.json({ channel: 'call' })})
        RETURNING lead_id)
      INSERT INTO lead_changes SELECT lead_id FROM added`;
    await changeLead(leadIds[3]!, `status = 'disqualified', status_reason = 'no_budget'`);
    await changeLead(leadIds[6]!, `owner_id = 'rep-9'`);
    await changeLead(leadIds[7]!, `created_at = created_at + interval '2 days'`);
    expect(await rowsDrift('lead_milestones')).toHaveLength(2 * 5);
    expect(await drift()).toEqual([]);
    await foldDaySums(sql);
    expect(await rowsDrift('lead_milestones')).toEqual([]);
    expect(await drift()).toEqual([]);

    // Erasure takes a lead out at once, fold or no fold, also one with a change not folded yet.
    await changeLead(leadIds[10]!, `status = 'converted'`);
    await eraseLeadRows(sql, { leadId: leadIds[8]!, erasedBy: 'ops', reason: 'test' });
    await eraseLeadRows(sql, { leadId: leadIds[10]!, erasedBy: 'ops', reason: 'test' });
    expect(await drift()).toEqual([]);
    const [{ leads }] = await sql<[{ leads: number }]>`SELECT sum(leads)::int AS leads FROM lead_milestone_day_totals WHERE facet = 'all'`;
    expect(leads).toBe(22 + 9);
    expect(await sql`SELECT 1 FROM lead_changes WHERE lead_id = ${leadIds[10]!}`).toHaveLength(0);
    await foldDaySums(sql);
    expect(await rowsDrift('lead_milestones')).toEqual([]);
    expect(await drift()).toEqual([]);
  });

  it('stay right when many leads of the same day are saved at once, folded all the while by two workers', async () => {
    // Each save changes its lead's breaches, adds to its timeline and marks the lead changed in one
    // transaction, each changing the same day's sums. Two workers' folding loops run throughout.
    // Nothing may deadlock or wait, and no change may be lost or counted twice.
    const sameDay = leadIds.slice(12, 16).concat(leadIds.slice(16, 20));
    const folders = [startDaySumsFolding({ sql, everyMs: 5 }), startDaySumsFolding({ sql, everyMs: 7 })];
    await Promise.all(
      sameDay.flatMap((leadId, i) =>
        [0, 1, 2].map((round) =>
          sql.begin(async (tx) => {
            await tx`UPDATE leads SET sla_breaches = sla_breaches + 1 WHERE lead_id = ${leadId}`;
            await tx`INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
              VALUES (${leadId}, ${`busy:${i}:${round}`}, ${iso(start + 5 * dayMs)}, 'touch', 'system', ${tx.json({ channel: 'call' })})`;
            await tx`INSERT INTO lead_changes (lead_id) VALUES (${leadId})`;
          }),
        ),
      ),
    );
    await expect.poll(pendingChanges).toBe(0);
    await Promise.all(folders.map((f) => f.stop()));
    expect(await rowsDrift('lead_milestones')).toEqual([]);
    expect(await drift()).toEqual([]);
  });

  /** A report but for the age of the oldest unassigned lead, which grows as the test runs. */
  const steady = (report: FunnelReport) => ({
    ...report,
    unassigned: report.unassigned && {
      ...report.unassigned,
      oldest: report.unassigned.oldest && { ...report.unassigned.oldest, ageMs: 0 },
    },
  });

  it('count a save through the read model (db/leads.ts) at once: a report read right after it, before any fold, is the report after the fold', async () => {
    await foldDaySums(sql);
    const cohort = { from: iso(start), to: iso(start + 6 * dayMs) };
    const today = { from: iso(Date.now() - dayMs), to: iso(Date.now() + 60_000) };
    const [cohortBefore, todayBefore] = await Promise.all([funnelReport(sql, cohort), funnelReport(sql, today)]);

    // A sales-ready lead of the cohort converts with an amount; a new lead is captured straight to sales-ready.
    const converting = (await findLead(sql, leadIds[5]!))!;
    const webinarBefore = cohortBefore.bySource.find((s) => s.source === converting.lead.profile.source)!;
    await writeLead(sql, {
      lead: { ...converting.lead, status: 'converted' },
      events: [
        { key: 'save:1', at: iso(start + 5 * dayMs), type: 'status_changed', actor: 'rep', data: { status: 'converted' } },
        { key: 'save:2', at: iso(start + 5 * dayMs), type: 'converted', actor: 'rep', data: { opportunity: { amount: 5000 } } },
      ],
    });
    const fresh = {
      ...converting.lead,
      leadId: 'lead-report-days-new',
      status: 'sql' as const,
      profile: { email: 'new@report-days.example', source: 'chat' as const },
    };
    await writeLead(sql, {
      lead: fresh,
      events: [{ key: 'captured:1', at: iso(Date.now()), type: 'status_changed', actor: 'system', data: { status: 'sql' } }],
    });
    expect(await pendingChanges()).toBe(2);

    const [cohortSaved, todaySaved, cohortRows, todayRows] = await Promise.all([
      funnelReport(sql, cohort),
      funnelReport(sql, today),
      funnelReport(sql, cohort, { days: false }),
      funnelReport(sql, today, { days: false }),
    ]);
    expect(cohortSaved.funnel.converted).toBe(cohortBefore.funnel.converted + 1);
    expect(cohortSaved.bySource.find((s) => s.source === converting.lead.profile.source)).toEqual({
      ...webinarBefore,
      conversions: webinarBefore.conversions + 1,
      amount: webinarBefore.amount + 5000,
    });
    expect(todaySaved.funnel).toMatchObject({
      leads: todayBefore.funnel.leads + 1,
      mql: todayBefore.funnel.mql + 1,
      sql: todayBefore.funnel.sql + 1,
    });
    expect(todaySaved.unassigned!.leads).toBe(todayBefore.unassigned!.leads + 1);
    expect(steady(cohortSaved)).toEqual(steady(cohortRows));
    expect(steady(todaySaved)).toEqual(steady(todayRows));
    expect(await drift()).toEqual([]);

    expect(await foldDaySums(sql)).toBeGreaterThanOrEqual(2);
    expect(await pendingChanges()).toBe(0);
    const [cohortFolded, todayFolded] = await Promise.all([funnelReport(sql, cohort), funnelReport(sql, today)]);
    expect(steady(cohortFolded)).toEqual(steady(cohortSaved));
    expect(steady(todayFolded)).toEqual(steady(todaySaved));
    expect(await rowsDrift('lead_milestones')).toEqual([]);
    expect(await drift()).toEqual([]);
  });

  it('answer the report as the leads own rows do, for whole days and for parts of days', async () => {
    const windows: [string, number, number][] = [
      ['whole days', start, start + 6 * dayMs],
      ['parts of the first and last day', start + 5 * hour, start + 4 * dayMs + 15 * hour],
      ['inside one day', start + dayMs + 6 * hour, start + dayMs + 20 * hour],
      ['a day and a bit', start + 2 * dayMs, start + 3 * dayMs + 8 * hour],
      ['around every lead', start - 40 * dayMs, Date.now()],
    ];
    // Some changes not folded yet: the report must count them too.
    await changeLead(leadIds[20]!, `status = 'recycled', status_reason = 'timing'`);
    await changeLead(leadIds[1]!, `status = 'disqualified', status_reason = 'spam'`);
    expect(await pendingChanges()).toBeGreaterThan(0);
    for (const [what, from, to] of windows) {
      const filter = { from: iso(from), to: iso(to) };
      const [fromSums, fromRows] = await Promise.all([funnelReport(sql, filter), funnelReport(sql, filter, { days: false })]);
      expect(steady(fromSums), what).toEqual(steady(fromRows));
    }
    // Not equal by being empty: the partial window holds the leads captured in it.
    const partial = await funnelReport(sql, { from: iso(start + 5 * hour), to: iso(start + 4 * dayMs + 15 * hour) });
    const [{ n }] = await sql<[{ n: number }]>`
      SELECT count(*)::int AS n FROM leads WHERE created_at >= ${iso(start + 5 * hour)}::timestamptz AND created_at < ${iso(start + 4 * dayMs + 15 * hour)}::timestamptz`;
    expect(partial.funnel.leads).toBe(n);
    expect(n).toBeGreaterThan(10);
    expect(partial.bySource.length).toBe(4);
    const aging = (await funnelReport(sql, { from: iso(start), to: iso(start + dayMs) })).aging;
    // An hour short of 8, 31 and 91 days old: 7, 30 and 90 whole days. An hour and five hours past: 8, 31 and 91.
    expect(aging.find((a) => a.status === 'new')?.buckets).toEqual({ '0-7': 1, '8-30': 1, '31-90': 1, '90+': 0 });
    // And the seven leads of 2005 still at MQL (one of the eight was disqualified).
    expect(aging.find((a) => a.status === 'mql')?.buckets).toEqual({ '0-7': 0, '8-30': 2, '31-90': 2, '90+': 2 + 7 });
  });
});

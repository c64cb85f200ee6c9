import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../db/client';
import { eraseLeadRows } from '../db/privacy';
import { counters as counterList, foldDaySums, funnelReport } from '../db/reports';
import type { LeadSource, LeadStatus } from '../domain/lead';
import { startDaySumsFolding } from '../worker/day-sums';
import { freshDatabase } from './support/helpers';
import { seedLead } from './support/seed-leads';

// The funnel report's per-day sums (lead_milestone_days, migration 0017) against the leads' own
// rows: the triggers must keep them equal through every change, and a report read from them must
// equal one read from the rows. A database of its own: the checks cover every lead there is.
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

/**
 * Rows of the sums (folded and not yet folded: lead_milestone_day_totals) that differ from the same
 * sums worked out afresh from lead_milestones (its recount view).
 */
async function sumsDrift(): Promise<unknown[]> {
  const counters = counterList.join(', ');
  // Sums that went back to zero stay as rows (a lead moved on from that facet); the recount has none.
  return sql.unsafe(`
    WITH kept AS (
      SELECT day, facet, value, ${counters
        .split(', ')
        .map((c) => `sum(${c})${c === 'amount' ? '' : '::int'} AS ${c}`)
        .join(', ')}
      FROM lead_milestone_day_totals GROUP BY day, facet, value HAVING (${counters
        .split(', ')
        .map((c) => `sum(${c}) <> 0`)
        .join(' OR ')})
    ), fresh AS (SELECT day, facet, value, ${counters} FROM lead_milestone_days_recount)
    (SELECT 'kept only' AS side, * FROM (TABLE kept EXCEPT TABLE fresh) a)
    UNION ALL
    (SELECT 'fresh only', * FROM (TABLE fresh EXCEPT TABLE kept) b)`);
}

const pendingChanges = async () => (await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM lead_milestone_day_changes`)[0].n;

describe('the funnel report per-day sums', () => {
  const leadIds: string[] = [];
  beforeAll(async () => {
    // 24 leads over six days, at hours that put some in each day's first and last quarter.
    for (let i = 0; i < 24; i++) {
      const createdAt = start + Math.floor(i / 4) * dayMs + (i % 4) * 7 * hour + 30 * min;
      const reached = i % 3 !== 0;
      const events: [string, number, Record<string, unknown>?][] = [['status_changed', 10 * min, { status: 'mql' }]];
      if (reached) events.push(['status_changed', hour, { status: 'sql' }], ['assigned', hour]);
      if (reached && i % 2 === 0) events.push(['responded', hour + i * 4 * min], ['status_changed', hour + i * 4 * min, { status: 'accepted' }], ['touch', 2 * hour]);
      if (i % 5 === 0) events.push(['sla_breached', 2 * hour]);
      const status: LeadStatus = reached ? (i % 2 === 0 ? 'accepted' : 'sql') : 'mql';
      leadIds.push(
        await seedLead(sql, {
          createdAt, source: sources[i % sources.length]!, status, teamId: reached ? 'team-x' : undefined, ownerId: reached ? `rep-${i % 3}` : undefined,
          priority: reached ? 'P1' : undefined, breaches: i % 5 === 0 ? 1 : 0, events,
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

  it('equal the leads own rows after captures, timelines, status, owner and capture-time changes, and erasure', async () => {
    expect(await sumsDrift()).toEqual([]);
    // Saves only append their changes; a fold moves them into the sums and leaves them exact.
    expect(await pendingChanges()).toBeGreaterThan(0);
    expect(await foldDaySums(sql)).toBeGreaterThan(0);
    expect(await pendingChanges()).toBe(0);
    expect(await sumsDrift()).toEqual([]);
    const [{ days }] = await sql<[{ days: number }]>`SELECT count(DISTINCT day)::int AS days FROM lead_milestone_days WHERE facet = 'all' AND leads > 0 AND day < '2006-01-01'`;
    expect(days).toBe(6);

    // A conversion with an amount, a disqualification with its reason, an owner change, a lead
    // moved to another day, more touches: each a lead's save, as the read model writes them.
    await sql`UPDATE leads SET status = 'converted' WHERE lead_id = ${leadIds[2]!}`;
    await sql`INSERT INTO lead_events (lead_id, event_key, at, type, actor, data) VALUES
      (${leadIds[2]!}, 'later:1', ${iso(start + 3 * dayMs)}, 'status_changed', 'system', ${sql.json({ status: 'converted' })}),
      (${leadIds[2]!}, 'later:2', ${iso(start + 3 * dayMs)}, 'converted', 'system', ${sql.json({ opportunity: { amount: 1234.5 } })}),
      (${leadIds[4]!}, 'later:1', ${iso(start + 4 * dayMs)}, 'touch', 'system', ${sql.json({ channel: 'call' })})`;
    await sql`UPDATE leads SET status = 'disqualified', status_reason = 'no_budget' WHERE lead_id = ${leadIds[3]!}`;
    await sql`UPDATE leads SET owner_id = 'rep-9' WHERE lead_id = ${leadIds[6]!}`;
    await sql`UPDATE leads SET created_at = created_at + interval '2 days' WHERE lead_id = ${leadIds[7]!}`;
    expect(await sumsDrift()).toEqual([]);
    await foldDaySums(sql);
    expect(await sumsDrift()).toEqual([]);

    await eraseLeadRows(sql, { leadId: leadIds[8]!, erasedBy: 'ops', reason: 'test' });
    expect(await sumsDrift()).toEqual([]);
    const [{ leads }] = await sql<[{ leads: number }]>`SELECT sum(leads)::int AS leads FROM lead_milestone_day_totals WHERE facet = 'all'`;
    expect(leads).toBe(23 + 9);
    await foldDaySums(sql);
    expect(await sumsDrift()).toEqual([]);
  });

  it('stay right when many leads of the same day are saved at once, folded all the while by two workers', async () => {
    // Each save changes its lead's breaches and adds to its timeline in one transaction: two
    // statements, each changing the same day's sums. Two workers' folding loops run throughout.
    // Nothing may deadlock, and no change may be lost or counted twice.
    const sameDay = leadIds.slice(12, 16).concat(leadIds.slice(16, 20));
    const folders = [startDaySumsFolding({ sql, everyMs: 5 }), startDaySumsFolding({ sql, everyMs: 7 })];
    await Promise.all(
      sameDay.flatMap((leadId, i) =>
        [0, 1, 2].map((round) =>
          sql.begin(async (tx) => {
            await tx`UPDATE leads SET sla_breaches = sla_breaches + 1 WHERE lead_id = ${leadId}`;
            await tx`INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
              VALUES (${leadId}, ${`busy:${i}:${round}`}, ${iso(start + 5 * dayMs)}, 'touch', 'system', ${tx.json({ channel: 'call' })})`;
          }),
        ),
      ),
    );
    await expect.poll(pendingChanges).toBe(0);
    await Promise.all(folders.map((f) => f.stop()));
    expect(await sumsDrift()).toEqual([]);
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
    await sql`UPDATE leads SET status = 'recycled', status_reason = 'timing' WHERE lead_id = ${leadIds[20]!}`;
    await sql`UPDATE leads SET status = 'disqualified', status_reason = 'spam' WHERE lead_id = ${leadIds[1]!}`;
    expect(await pendingChanges()).toBeGreaterThan(0);
    for (const [what, from, to] of windows) {
      const filter = { from: iso(from), to: iso(to) };
      const [fromSums, fromRows] = await Promise.all([funnelReport(sql, filter), funnelReport(sql, filter, { days: false })]);
      expect(fromSums, what).toEqual(fromRows);
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

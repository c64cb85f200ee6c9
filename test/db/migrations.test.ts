import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { describe, expect, it } from 'vitest';
import { createSql } from '../../db/client';
import { writeLead } from '../../db/leads';
import { migrate, migrationsDir } from '../../db/migrate';
import { funnelReport } from '../../db/reports';
import { listRoutingDecisions } from '../../db/routing';
import { emptyDatabase } from '../support/helpers';

// Each test gets an empty database of its own on the run's Postgres, so it starts from nothing.
const quiet = () => {};
const migrationFiles = readdirSync(migrationsDir)
  .filter((f) => f.endsWith('.sql'))
  .sort();

describe('migration runner', () => {
  it('applies every migration in order, once, and records it', async () => {
    const url = await emptyDatabase('migrations');
    expect(await migrate(url, quiet)).toEqual(migrationFiles.map((f) => f.replace(/\.sql$/, '')));
    expect(await migrate(url, quiet)).toEqual([]);

    const sql = createSql(url, { max: 1 });
    const recorded = await sql`SELECT name FROM schema_migrations ORDER BY run_on, id`;
    const tables = await sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`;
    await sql.end();
    expect(recorded.map((r) => r.name)).toEqual(migrationFiles.map((f) => f.replace(/\.sql$/, '')));
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['leads', 'lead_events', 'schema_migrations']));
  });

  it('is safe when two processes start at once: each migration is applied exactly once', async () => {
    const url = await emptyDatabase('migrations');
    const [a, b] = await Promise.all([migrate(url, quiet), migrate(url, quiet)]);
    expect([...a, ...b].sort()).toEqual(migrationFiles.map((f) => f.replace(/\.sql$/, '')));

    const sql = createSql(url, { max: 1 });
    const [row] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM schema_migrations`;
    await sql.end();
    expect(row?.count).toBe(migrationFiles.length);
  });

  it('moves the funnel report off the save triggers (0019) on a database that has leads: the report reads the same before and after', async () => {
    const url = await emptyDatabase('migrations');
    const before0019 = migrationFiles.indexOf('0019_lead_changes.sql');
    await runner({
      databaseUrl: url,
      dir: migrationsDir,
      direction: 'up',
      migrationsTable: 'schema_migrations',
      count: before0019,
      log: quiet,
      logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    const sql = createSql(url, { max: 2 });
    try {
      // Leads and timelines written as before 0019: its triggers keep the milestones, some sums folded, some not.
      await sql`INSERT INTO leads (lead_id, identity_key, email, source, status, created_at) VALUES
        ('lead-a', 'a', 'a@example.com', 'webinar', 'sql', '2005-06-01T10:00:00Z'), ('lead-b', 'b', 'b@example.com', 'chat', 'converted', '2005-06-02T10:00:00Z')`;
      await sql`SELECT lead_milestone_days_fold()`;
      await sql`INSERT INTO lead_events (lead_id, event_key, at, type, actor, data) VALUES
        ('lead-a', 'e1', '2005-06-01T10:00:00Z', 'status_changed', 'system', '{"status":"sql"}'),
        ('lead-b', 'e1', '2005-06-02T10:00:00Z', 'status_changed', 'system', '{"status":"sql"}'),
        ('lead-b', 'e2', '2005-06-03T10:00:00Z', 'converted', 'system', '{"opportunity":{"amount":700}}'),
        ('lead-b', 'e3', '2005-06-03T10:00:00Z', 'status_changed', 'system', '{"status":"converted"}')`;
      // What a report reads (the report's own code reads 0019's views): the per-day sums, folded or not, and the leads' rows.
      const read = async (rows: string) => ({
        sums: await sql.unsafe(`
          SELECT day::text, facet, value, sum(leads)::int AS leads, sum(sql)::int AS sql, sum(converted)::int AS converted, sum(amount)::float8 AS amount
          FROM lead_milestone_day_totals GROUP BY 1, 2, 3 HAVING sum(leads) <> 0 ORDER BY 1, 2, 3`),
        rows: await sql.unsafe(`SELECT lead_id, status, sql_at, converted_at, amount, touches FROM ${rows} ORDER BY lead_id`),
      });
      const before = await read('lead_milestones');
      expect(before.rows).toHaveLength(2);
      expect(before.sums.find((r) => r.facet === 'source' && r.value === 'chat')).toMatchObject({ leads: 1, converted: 1, amount: 700 });

      expect(await migrate(url, quiet)).toContain('0019_lead_changes');
      expect(await read('lead_milestones_live')).toEqual(before);
      // No report trigger is left (the reps' open-lead counts of 0023 are kept by one of their own, 0028 guards saves against an erasure).
      const triggers = await sql`
        SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN ('leads'::regclass, 'lead_events'::regclass)
          AND tgname NOT LIKE 'rep_open_leads_%' AND tgname <> 'leads_save_guard'`;
      expect(triggers).toEqual([]);
      const window = { from: '2005-06-01T00:00:00.000Z', to: '2005-06-08T00:00:00.000Z' };
      expect((await funnelReport(sql, window)).funnel).toMatchObject({ leads: 2, sql: 2, converted: 1 });
      // A save after it is counted at once, and the same once folded.
      const [row] = await sql<[{ lead_id: string }]>`SELECT lead_id FROM leads WHERE lead_id = 'lead-a'`;
      await writeLead(sql, {
        lead: {
          leadId: row.lead_id,
          status: 'accepted',
          profile: { email: 'a@example.com', source: 'webinar' },
          consent: {},
          engagement: { seen: [], openedEmails: 0, lastEngagementAt: '2005-06-01T10:00:00.000Z' },
          enrichment: 'not_found',
        },
        events: [{ key: 'e2', at: '2005-06-01T11:00:00.000Z', type: 'status_changed', actor: 'rep', data: { status: 'accepted' } }],
      });
      const saved = await funnelReport(sql, window);
      expect(saved.aging.map((a) => a.status)).toEqual(['accepted']);
      await sql`SELECT lead_reports_fold()`;
      expect(await funnelReport(sql, window)).toEqual(saved);
    } finally {
      await sql.end();
    }
  });

  it('gives the routing decisions taken before the log (0029) their rep, team and outcome, and the log lists them', async () => {
    const url = await emptyDatabase('migrations');
    await runner({
      databaseUrl: url,
      dir: migrationsDir,
      direction: 'up',
      migrationsTable: 'schema_migrations',
      count: migrationFiles.indexOf('0029_routing_log.sql'),
      log: quiet,
      logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    const sql = createSql(url, { max: 2 });
    try {
      const assignment = (ownerId: string | null, reason: string) => ({ ownerId, teamId: 'team-a', reason, priority: 'P1', sla: 'PT5M' });
      await sql`INSERT INTO leads (lead_id, identity_key, email, source, status) VALUES ('lead-a', 'a', 'a@example.com', 'chat', 'sql')`;
      await sql`INSERT INTO routing_decisions (lead_id, routing_key, assignment, decided_at) VALUES
        ('lead-a', 'run:1', ${sql.json(assignment('rep-1', 'account Acme (acme.io) is owned by rep-1'))}, now() - interval '3 minutes'),
        ('lead-a', 'run:2', ${sql.json(assignment('rep-2', 'territory: team A covers DE, smb; weighted round robin → rep-2'))}, now() - interval '2 minutes'),
        ('lead-a', 'run:3', ${sql.json(assignment(null, 'territory: team A covers DE, smb; nobody eligible: unassigned queue'))}, now() - interval '1 minute')`;
      expect(await migrate(url, quiet)).toContain('0029_routing_log');
      const { decisions } = await listRoutingDecisions(sql, {
        teamId: 'team-a',
        from: '2000-01-01T00:00:00Z',
        to: new Date().toISOString(),
        limit: 10,
      });
      expect(decisions.map(({ outcome, repId, teamId, path }) => ({ outcome, repId, teamId, path }))).toEqual([
        { outcome: 'unassigned', repId: null, teamId: 'team-a', path: null },
        { outcome: 'round_robin', repId: 'rep-2', teamId: 'team-a', path: null },
        { outcome: 'account_owner', repId: 'rep-1', teamId: 'team-a', path: null },
      ]);
    } finally {
      await sql.end();
    }
  });
});

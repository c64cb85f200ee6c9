import proto from '@temporalio/proto';
import type { Sql } from '../db/client';
import { call, salesReady, sleep, waitAssigned, type Bench } from './context';
import { eventTypeName } from './histories';

const { EventType } = proto.temporal.api.enums.v1;

export interface StatementCount {
  /** Top-level statements the service sent for the lead, BEGIN/COMMIT/ROLLBACK not counted: the lead's window less the background. */
  statements: number;
  /** Explicit transactions among them (BEGINs; pg_stat_statements misses COMMITs now and then, BEGINs not). */
  transactions: number;
  /** All those statements in the lead's window, background included. */
  inWindow: number;
  windowMs: number;
  /** Top-level statements a second on the idle system (the worker's outbox and day-sums loops), from a window before and one after. */
  backgroundPerSecond: [number, number];
  /** The statements above the background, most called first (the text as pg_stat_statements normalises it). */
  byStatement: { calls: number; query: string }[];
}

export interface NewLeadFigures {
  leadId: string;
  /** Capture sent → its `leads.assigned_at`. */
  assignedMs: number | null;
  /** Events of its history once assigned and quiet (no new event for 2 s). */
  events: number;
  /** WorkflowTaskCompleted events among them. */
  workflowTasks: number;
  eventTypes: string[];
  /** From pg_stat_statements; null where it is not loaded (`BENCH_CLUSTER`: the cluster's Postgres is not the bench's own). */
  sql: StatementCount | null;
}

type Statements = Map<string, { calls: number; query: string }>;

const windowMs = 5000;

/** pg_stat_statements can be read here (loaded by shared_preload_libraries, extension created). */
export async function statementsAvailable(sql: Sql): Promise<boolean> {
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`;
    await sql`SELECT count(*) FROM pg_stat_statements`;
    return true;
  } catch {
    return false;
  }
}

/** Top-level statements of this database since the last reset, per statement, less the bench's own reads of pg_stat_statements. */
async function statements(sql: Sql): Promise<Statements> {
  const rows = await sql<{ queryid: string; calls: number; query: string }[]>`
    SELECT queryid::text, calls::int, query FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND toplevel AND query NOT LIKE '%pg_stat_statements%'`;
  return new Map(rows.map((r) => [r.queryid, { calls: r.calls, query: r.query }]));
}
const transactionControl = /^\s*(begin|start transaction|commit|end|rollback)\b/i;
const total = (s: Statements) => [...s.values()].reduce((n, r) => n + (transactionControl.test(r.query) ? 0 : r.calls), 0);
const begins = (s: Statements) => [...s.values()].reduce((n, r) => n + (/^\s*(begin|start transaction)\b/i.test(r.query) ? r.calls : 0), 0);

/** The statements of a quiet window of `ms` (the bench sends none meanwhile). */
async function quietWindow(sql: Sql, ms: number): Promise<Statements> {
  await sql`SELECT pg_stat_statements_reset()`;
  await sleep(ms);
  return statements(sql);
}

/**
 * One new sales-ready lead on a quiet system, up to routed: its capture, then its history once the
 * workflow has been quiet for 2 s (polled with describe(), from Temporal, so the bench sends no SQL
 * meanwhile), counting all its events and its WorkflowTaskCompleted events (its workflow tasks).
 * SQL: pg_stat_statements is reset, the capture sent, and the top-level statements of the database
 * read once the lead is quiet (every statement the worker, the API and their triggers' callers sent,
 * not the statements run inside triggers and functions, nor BEGIN/COMMIT, counted apart); the background of the idle system (the worker's loops) is measured
 * in a 5 s window before and after and subtracted at its rate over the lead's window.
 */
export async function measureNewLead(bench: Bench, { countStatements }: { countStatements: boolean }): Promise<NewLeadFigures> {
  const { sql, client, log } = bench;
  await sleep(3000); // let the previous section's stragglers finish
  const before = countStatements ? await quietWindow(sql, windowMs) : undefined;

  if (countStatements) await sql`SELECT pg_stat_statements_reset()`;
  const sentAt = Date.now();
  const windowStart = performance.now();
  const r = await call(bench, 'POST', '/leads', salesReady('new-lead', 0), 'capture-dev');
  const { leadId } = (await r.json()) as { leadId: string };
  const handle = client.workflow.getHandle(leadId);
  let length = 0;
  for (
    let stableSince = performance.now();
    performance.now() - stableSince < 2000 && performance.now() - windowStart < 60_000;
    await sleep(200)
  ) {
    const now = (await handle.describe()).historyLength;
    if (now !== length) [length, stableSince] = [now, performance.now()];
  }
  const leadWindowMs = performance.now() - windowStart;
  const inLead = countStatements ? await statements(sql) : undefined;
  const after = countStatements ? await quietWindow(sql, windowMs) : undefined;

  await waitAssigned(sql, [leadId], 30_000);
  const [row] = (await sql`SELECT assigned_at FROM leads WHERE lead_id = ${leadId}`) as unknown as [
    { assigned_at: Date | null } | undefined,
  ];
  const events = (await handle.fetchHistory()).events ?? [];
  const figures: NewLeadFigures = {
    leadId,
    assignedMs: row?.assigned_at ? row.assigned_at.getTime() - sentAt : null,
    events: events.length,
    workflowTasks: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length,
    eventTypes: events.map((e) => eventTypeName(e.eventType)),
    sql: null,
  };
  if (before && inLead && after) {
    const rate = [total(before) / windowMs, total(after) / windowMs] as const;
    // The background's share of the lead's window: the two quiet windows' mean, at the lead window's length.
    const scale = leadWindowMs / windowMs / 2;
    const byStatement = [...inLead.entries()]
      .map(([id, s]) => ({
        calls: s.calls - ((before.get(id)?.calls ?? 0) + (after.get(id)?.calls ?? 0)) * scale,
        query: s.query.replace(/\s+/g, ' ').slice(0, 200),
      }))
      .filter((s) => s.calls > 0.5)
      .map((s) => ({ ...s, calls: Math.round(s.calls * 10) / 10 }))
      .sort((a, b) => b.calls - a.calls);
    figures.sql = {
      statements: Math.round(total(inLead) - ((rate[0] + rate[1]) / 2) * leadWindowMs),
      transactions: Math.round(begins(inLead) - (begins(before) + begins(after)) * scale),
      inWindow: total(inLead),
      windowMs: Math.round(leadWindowMs),
      backgroundPerSecond: [Math.round(rate[0] * 10_000) / 10, Math.round(rate[1] * 10_000) / 10],
      byStatement,
    };
  }
  log(
    `  ${figures.events} events, ${figures.workflowTasks} workflow task(s) (assigned after ${figures.assignedMs ?? '–'} ms): ${figures.eventTypes.join(', ')}`,
  );
  if (figures.sql) {
    log(
      `  ${figures.sql.statements} SQL statements, ${figures.sql.transactions} explicit transactions (${figures.sql.inWindow} statements in its ${(figures.sql.windowMs / 1000).toFixed(1)} s window, background ${figures.sql.backgroundPerSecond.join(' and ')}/s)`,
    );
  }
  return figures;
}

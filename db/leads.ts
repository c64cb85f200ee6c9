import type { Engagement } from '../domain/engagement';
import { identityKey } from '../domain/identity';
import type { LeadSource, LeadStatus } from '../domain/lead';
import type { LeadRecord, OutboxNotification, Routing, TimelineEvent } from '../domain/lead-record';
import type { LeadProfile } from '../domain/profile';
import type { Priority } from '../domain/sla';
import type { Db, Sql } from './client';
import { insertCrmPushes, insertNotifications } from './outbox';
import type { LeadRow } from './rows';
import { insertEvents, writtenEvents } from './timeline';

/**
 * What the read model keeps of a lead's routing: the owner and the SLA clock. The SLA terms and
 * the managers stay in the workflow. Routing writes the owner before the workflow saves the rest,
 * so any of these may still be empty.
 */
export interface StoredRouting {
  ownerId: string | null;
  teamId: string | null;
  reason: string | null;
  priority: Priority | null;
  assignedAt: string | null;
  dueAt: string | null;
  breaches: number;
  respondedAt: string | null;
  responseMs: number | null;
}

/** A lead as Postgres keeps it: the domain record, its routing columns and when the row was made and changed. */
export interface StoredLead {
  /** Without `routing` (see `routing`) and without the workflow-only fields (`recycle`, `lastTouchAt`). */
  lead: LeadRecord;
  routing: StoredRouting;
  createdAt: string;
  updatedAt: string;
}

const orUndefined = <T>(value: T | null): T | undefined => (value === null ? undefined : value);
const iso = (at: Date | null) => at?.toISOString() ?? null;

/** Row → record: the one place that reads the lead's columns. */
function storedLeadFromRow(row: LeadRow): StoredLead {
  const profile: LeadProfile = {
    email: row.email,
    firstName: orUndefined(row.first_name),
    lastName: orUndefined(row.last_name),
    company: orUndefined(row.company),
    title: orUndefined(row.title),
    phone: orUndefined(row.phone),
    country: orUndefined(row.country),
    employees: orUndefined(row.employees),
    industry: orUndefined(row.industry),
    techStack: row.tech_stack.length ? row.tech_stack : undefined,
    fundingStage: orUndefined(row.funding_stage),
    source: row.source,
    sourceDetail: orUndefined(row.source_detail),
  };
  return {
    lead: {
      leadId: row.lead_id,
      status: row.status,
      statusReason: orUndefined(row.status_reason),
      profile: JSON.parse(JSON.stringify(profile)), // drop undefined keys: Temporal payloads and equality stay clean
      consent: row.consent,
      engagement:
        'lastEngagementAt' in row.engagement
          ? (row.engagement as Engagement)
          : { seen: [], openedEmails: 0, lastEngagementAt: new Date(0).toISOString() },
      enrichment: row.enrichment,
      // The grade and model version are saved with every score; fit points are not stored.
      score:
        row.score === null
          ? undefined
          : {
              score: row.score,
              grade: row.grade ?? 'F',
              fitPoints: 0,
              breakdown: row.score_breakdown,
              modelVersion: row.score_model_version ?? 0,
            },
      cadence: orUndefined(row.cadence),
    },
    routing: {
      ownerId: row.owner_id,
      teamId: row.team_id,
      reason: row.routing_reason,
      priority: row.priority,
      assignedAt: iso(row.assigned_at),
      dueAt: iso(row.sla_due_at),
      breaches: row.sla_breaches,
      respondedAt: iso(row.responded_at),
      responseMs: row.response_ms === null ? null : Number(row.response_ms),
    },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** What of the workflow's routing the read model keeps: the routing columns, and the view of a lead read from its workflow. */
export function storedRouting(routing: Routing | undefined): StoredRouting {
  const r: Partial<Routing> = routing ?? {};
  return {
    ownerId: r.ownerId ?? null,
    teamId: r.teamId ?? null,
    reason: r.reason ?? null,
    priority: r.priority ?? null,
    assignedAt: r.assignedAt ?? null,
    // Once the rep has responded there is no SLA due any more.
    dueAt: r.respondedAt ? null : (r.dueAt ?? null),
    breaches: r.breaches ?? 0,
    respondedAt: r.respondedAt ?? null,
    responseMs: r.responseMs ?? null,
  };
}

/** Record → columns: the one place that writes the lead's columns. */
function leadColumns(tx: Db, lead: LeadRecord) {
  const p = lead.profile;
  const r = storedRouting(lead.routing);
  return {
    lead_id: lead.leadId,
    identity_key: identityKey(p.email),
    email: p.email,
    first_name: p.firstName ?? null,
    last_name: p.lastName ?? null,
    company: p.company ?? null,
    title: p.title ?? null,
    phone: p.phone ?? null,
    country: p.country ?? null,
    employees: p.employees ?? null,
    industry: p.industry ?? null,
    tech_stack: p.techStack ?? [],
    funding_stage: p.fundingStage ?? null,
    source: p.source,
    source_detail: p.sourceDetail ?? null,
    consent: tx.json(lead.consent as never),
    engagement: tx.json(lead.engagement as never),
    enrichment: lead.enrichment,
    status: lead.status,
    status_reason: lead.statusReason ?? null,
    score: lead.score?.score ?? null,
    grade: lead.score?.grade ?? null,
    score_breakdown: tx.json((lead.score?.breakdown ?? []) as never),
    score_model_version: lead.score?.modelVersion ?? null,
    owner_id: r.ownerId,
    team_id: r.teamId,
    priority: r.priority,
    routing_reason: r.reason,
    assigned_at: r.assignedAt,
    sla_due_at: r.dueAt,
    sla_breaches: r.breaches,
    responded_at: r.respondedAt,
    response_ms: r.responseMs,
    cadence: lead.cadence ? tx.json(lead.cadence as never) : null,
  };
}

export interface LeadSave {
  lead: LeadRecord;
  events: TimelineEvent[];
  notifications?: OutboxNotification[];
  /** The workflow run saving it: a lead's first save records it as the run that made the lead (`startLead`). */
  runId?: string;
}

/**
 * The lead's row, its new timeline events and its outbox entries (with the CRM pushes its events
 * call for), in one statement (atomic without a transaction, or inside the caller's); answers the
 * events not written before. The statement also marks the lead changed (`lead_changes`, migration
 * 0019) for the funnel report, which works out its milestones afresh from the row and the timeline.
 * Every save runs the erasure guard (migration 0028), a trigger on the saving run: `runId` must be that run.
 */
export async function writeLead(db: Db, { lead, events, notifications = [], runId }: LeadSave): Promise<TimelineEvent[]> {
  const leadId = lead.leadId;
  // Routed, a rep's action, converted: pushed to the connected CRMs (docs/features/crm.md) by the
  // worker's outbox, after this save, so a CRM never delays routing or the rep's alert.
  const crmPushes = insertCrmPushes(db, leadId, events);
  // identity_key, email and the first-touch source never change once the lead exists; run_id is set by `startLead` after that.
  // Data-modifying WITH queries all run, to the end, whether or not the statement reads what they return
  // (https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING); the timeline's
  // foreign key is checked at the end of the statement, once the lead's row is in.
  const rows = await db<{ event_key: string }[]>`
    WITH saved AS (
      INSERT INTO leads ${db({ ...leadColumns(db, lead), run_id: runId ?? null })}
      ON CONFLICT (lead_id) DO UPDATE SET
        first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, company = EXCLUDED.company,
        title = EXCLUDED.title, phone = EXCLUDED.phone, country = EXCLUDED.country,
        employees = EXCLUDED.employees, industry = EXCLUDED.industry, tech_stack = EXCLUDED.tech_stack,
        funding_stage = EXCLUDED.funding_stage, source_detail = EXCLUDED.source_detail,
        consent = EXCLUDED.consent, engagement = EXCLUDED.engagement, enrichment = EXCLUDED.enrichment,
        status = EXCLUDED.status, status_reason = EXCLUDED.status_reason, score = EXCLUDED.score,
        grade = EXCLUDED.grade, score_breakdown = EXCLUDED.score_breakdown,
        score_model_version = EXCLUDED.score_model_version, owner_id = EXCLUDED.owner_id,
        team_id = EXCLUDED.team_id, priority = EXCLUDED.priority, routing_reason = EXCLUDED.routing_reason,
        assigned_at = EXCLUDED.assigned_at, sla_due_at = EXCLUDED.sla_due_at, sla_breaches = EXCLUDED.sla_breaches,
        responded_at = EXCLUDED.responded_at, response_ms = EXCLUDED.response_ms, cadence = EXCLUDED.cadence,
        updated_at = now()
      RETURNING lead_id),
    changed AS (INSERT INTO lead_changes (lead_id) SELECT lead_id FROM saved)
    ${notifications.length > 0 ? db`, queued AS (${insertNotifications(db, leadId, notifications)})` : db``}
    ${crmPushes ? db`, pushed AS (${crmPushes})` : db``}
    ${events.length > 0 ? db`, written AS (${insertEvents(db, leadId, events)}) SELECT event_key FROM written` : db`SELECT NULL::text AS event_key WHERE false`}`;
  return writtenEvents(
    events,
    rows.map((r) => r.event_key),
  );
}

/** The lead as last saved, or undefined for a person never captured. */
export async function findLead(sql: Sql, leadId: string): Promise<StoredLead | undefined> {
  const [row] = await sql<LeadRow[]>`SELECT * FROM leads WHERE lead_id = ${leadId}`;
  return row && storedLeadFromRow(row);
}

/**
 * The lead as it was before workflow run `runId` first read or made it, or undefined when that run
 * made it (or nobody did): what the run starts from in every attempt of its first workflow task,
 * also one retried after its writes committed. The first read by a run records the row as it is.
 */
export async function startLead(sql: Sql, leadId: string, runId: string): Promise<StoredLead | undefined> {
  // One statement, one snapshot: the UPDATE stamps a row some other run left; the SELECT, seeing the
  // row as it was before the UPDATE, returns the image stamped by an earlier attempt of this run.
  const [row] = await sql<LeadRow[]>`
    WITH stamped AS (
      UPDATE leads SET run_id = ${runId}, run_start = to_jsonb(leads) - 'run_id' - 'run_start'
      WHERE lead_id = ${leadId} AND run_id IS DISTINCT FROM ${runId}
      RETURNING leads.*)
    SELECT * FROM stamped
    UNION ALL
    SELECT (jsonb_populate_record(NULL::leads, run_start)).* FROM leads
    WHERE lead_id = ${leadId} AND run_id = ${runId} AND run_start IS NOT NULL`;
  return row && storedLeadFromRow(row);
}

/** Just enough of a lead to check a request against it (who owns it, whether it is open), without reading the whole row. */
export async function findLeadState(sql: Sql, leadId: string): Promise<{ status: LeadStatus; ownerId: string | null } | undefined> {
  const [row] = await sql<{ status: LeadStatus; owner_id: string | null }[]>`SELECT status, owner_id FROM leads WHERE lead_id = ${leadId}`;
  return row && { status: row.status, ownerId: row.owner_id };
}

export interface LeadFilter {
  /** One status, or any of several (the rep inbox's open leads: sql and accepted). */
  status?: LeadStatus | readonly LeadStatus[];
  ownerId?: string;
  source?: LeadSource;
  cadence?: { name: string; version?: number };
  /** The position of the last lead of the previous page. */
  after?: LeadPosition;
  limit: number;
}

/** Where a lead stands in the newest-first order: its creation time at full (microsecond) precision and its id. */
export type LeadPosition = [createdAt: string, leadId: string];

/**
 * Leads newest first, a page at a time: keyset pagination on creation time, stable while leads
 * change. `next` is the position to continue after, null on the last page.
 */
export async function listLeads(sql: Sql, filter: LeadFilter): Promise<{ leads: StoredLead[]; next: LeadPosition | null }> {
  const { after, cadence } = filter;
  const rows = await sql<(LeadRow & { cursor_at: string })[]>`
    SELECT *, created_at::text AS cursor_at FROM leads
    WHERE true
      ${typeof filter.status === 'string' ? sql`AND status = ${filter.status}` : filter.status ? sql`AND status IN ${sql(filter.status)}` : sql``}
      ${filter.ownerId ? sql`AND owner_id = ${filter.ownerId}` : sql``}
      ${filter.source ? sql`AND source = ${filter.source}` : sql``}
      ${cadence ? sql`AND cadence->>'name' = ${cadence.name}` : sql``}
      ${cadence?.version !== undefined ? sql`AND (cadence->>'version')::int = ${cadence.version}` : sql``}
      -- The cursor's time goes in as text: typed timestamptz, postgres.js would pass it through a JS
      -- Date and drop its microseconds, skipping leads created later in the same millisecond.
      ${after ? sql`AND (created_at, lead_id) < (${after[0]}::text::timestamptz, ${after[1]})` : sql``}
    ORDER BY created_at DESC, lead_id DESC
    LIMIT ${filter.limit + 1}`;
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return { leads: page.map(storedLeadFromRow), next: rows.length > filter.limit && last ? [last.cursor_at, last.lead_id] : null };
}

/** Leads captured in [from, to) now: what a backtest job's progress counts towards. */
export async function countLeadsCaptured(sql: Sql, window: { from: string; to: string }): Promise<number> {
  // The bounds go in as text, as in listLeads: through a JS Date they would lose their microseconds.
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM leads
    WHERE created_at >= ${window.from}::text::timestamptz AND created_at < ${window.to}::text::timestamptz`;
  return row?.n ?? 0;
}

/**
 * The next `limit` leads captured in [from, to) after `after`, in capture order (created_at, then
 * lead id): keyset pagination on leads_created_idx, so each page is one short statement however
 * large the window (docs/operations/security.md "Bounded calls"). `next` is null on the last page.
 * What a re-score reads (profile, engagement, status, score, times): consent, the score's breakdown
 * and the cadence are left empty, since reading and parsing them for every lead was a third of a
 * 100,000-lead backtest.
 */
export async function leadsCapturedPage(
  sql: Sql,
  page: { from: string; to: string; after: LeadPosition | null; limit: number },
): Promise<{ leads: StoredLead[]; next: LeadPosition | null }> {
  const { after } = page;
  const rows = await sql<(LeadRow & { cursor_at: string })[]>`
    SELECT lead_id, identity_key, status, status_reason, owner_id, email, first_name, last_name, company, title, phone, country,
      employees, industry, tech_stack, funding_stage, source, source_detail, '{}'::jsonb AS consent, engagement, enrichment,
      score, grade, '[]'::jsonb AS score_breakdown, score_model_version, team_id, priority, routing_reason, assigned_at,
      sla_due_at, sla_breaches, responded_at, response_ms, NULL::jsonb AS cadence, created_at, updated_at, created_at::text AS cursor_at
    FROM leads
    WHERE created_at >= ${page.from}::text::timestamptz AND created_at < ${page.to}::text::timestamptz
      ${after ? sql`AND (created_at, lead_id) > (${after[0]}::text::timestamptz, ${after[1]})` : sql``}
    ORDER BY created_at, lead_id
    LIMIT ${page.limit}`;
  const last = rows.at(-1);
  return { leads: rows.map(storedLeadFromRow), next: rows.length === page.limit && last ? [last.cursor_at, last.lead_id] : null };
}

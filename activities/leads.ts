import type { Sql, Tx } from '../db/client';
import type { LeadRow } from '../db/rows';
import type { Engagement } from '../domain/engagement';
import { identityKey } from '../domain/identity';
import type { LeadRecord, OutboxNotification, TimelineEvent } from '../domain/lead-record';
import type { LeadProfile } from '../domain/profile';
const orUndefined = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

function recordFromRow(row: LeadRow): LeadRecord {
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
    leadId: row.lead_id,
    status: row.status,
    statusReason: orUndefined(row.status_reason),
    profile: JSON.parse(JSON.stringify(profile)), // drop undefined keys: Temporal payloads and equality stay clean
    consent: row.consent,
    engagement: 'lastEngagementAt' in row.engagement ? (row.engagement as Engagement) : { seen: [], openedEmails: 0, lastEngagementAt: new Date(0).toISOString() },
    enrichment: row.enrichment,
    score:
      row.score === null
        ? undefined
        : { score: row.score, grade: row.grade ?? 'F', fitPoints: 0, breakdown: row.score_breakdown, modelVersion: row.score_model_version ?? 0 },
  };
}

export interface LeadSave {
  lead: LeadRecord;
  events: TimelineEvent[];
  notifications?: OutboxNotification[];
}

/** The lead's row, its new timeline events and its outbox entries, inside the caller's transaction. */
export async function writeLead(tx: Tx, { lead, events, notifications = [] }: LeadSave): Promise<void> {
  const p = lead.profile;
  const r = lead.routing;
  await tx`
    INSERT INTO leads (lead_id, identity_key, email, first_name, last_name, company, title, phone, country,
                       employees, industry, tech_stack, funding_stage, source, source_detail, consent,
                       engagement, enrichment, status, status_reason, score, grade, score_breakdown,
                       score_model_version, owner_id, team_id, priority, routing_reason, assigned_at,
                       sla_due_at, sla_breaches, responded_at, response_ms, cadence)
    VALUES (${lead.leadId}, ${identityKey(p.email)}, ${p.email}, ${p.firstName ?? null}, ${p.lastName ?? null},
            ${p.company ?? null}, ${p.title ?? null}, ${p.phone ?? null}, ${p.country ?? null},
            ${p.employees ?? null}, ${p.industry ?? null}, ${p.techStack ?? []}, ${p.fundingStage ?? null},
            ${p.source}, ${p.sourceDetail ?? null}, ${tx.json(lead.consent as never)},
            ${tx.json(lead.engagement as never)}, ${lead.enrichment}, ${lead.status}, ${lead.statusReason ?? null},
            ${lead.score?.score ?? null}, ${lead.score?.grade ?? null}, ${tx.json((lead.score?.breakdown ?? []) as never)},
            ${lead.score?.modelVersion ?? null}, ${r?.ownerId ?? null}, ${r?.teamId ?? null}, ${r?.priority ?? null},
            ${r?.reason ?? null}, ${r?.assignedAt ?? null}, ${r?.respondedAt ? null : (r?.dueAt ?? null)},
            ${r?.breaches ?? 0}, ${r?.respondedAt ?? null}, ${r?.responseMs ?? null},
            ${lead.cadence ? tx.json(lead.cadence as never) : null})
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
      updated_at = now()`;
  for (const event of events) {
    await tx`
      INSERT INTO lead_events (lead_id, event_key, at, type, actor, data)
      VALUES (${lead.leadId}, ${event.key}, ${event.at}, ${event.type}, ${event.actor}, ${tx.json(event.data as never)})
      ON CONFLICT DO NOTHING`;
  }
  for (const n of notifications) {
    await tx`
      INSERT INTO notifications (dedupe_key, lead_id, kind, recipient, message, data)
      VALUES (${n.key}, ${lead.leadId}, ${n.kind}, ${n.recipient}, ${n.message}, ${tx.json(n.data as never)})
      ON CONFLICT (dedupe_key) DO NOTHING`;
  }
}

/** Data access for leads and their timelines. Every write is idempotent on (lead id, event key). */
export function leadActivities(sql: Sql) {
  return {
    /** The lead as last saved, or null for a person never captured: a new run starts from it (reactivation). */
    async loadLead(leadId: string): Promise<LeadRecord | null> {
      const [row] = await sql<LeadRow[]>`SELECT * FROM leads WHERE lead_id = ${leadId}`;
      return row ? recordFromRow(row) : null;
    },

    /**
     * Writes the lead as the workflow now knows it, its new timeline events and the alerts they
     * cause (the outbox), in one transaction.
     */
    async saveLead(save: LeadSave): Promise<void> {
      await sql.begin((tx) => writeLead(tx, save));
    },
  };
}

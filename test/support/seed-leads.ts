import { randomUUID } from 'node:crypto';
import type { Sql } from '../../db/client';
import { writeLead } from '../../db/leads';
import { leadIdFor } from './lead-ids';
import type { LeadSource, LeadStatus } from '../../domain/lead';
import type { LeadRecord } from '../../domain/lead-record';
import type { Priority } from '../../domain/sla';

export interface LeadSeed {
  /** Capture time, ms since the epoch. */
  createdAt: number;
  source: LeadSource;
  status: LeadStatus;
  statusReason?: string;
  teamId?: string;
  ownerId?: string;
  priority?: Priority;
  breaches?: number;
  /** Timeline events: [type, ms after createdAt, data]. */
  events?: [string, number, Record<string, unknown>?][];
}

/**
 * A lead with a known history for the reports: written through the read model's own write path
 * (its timeline too, so what the reports derive from it is derived as in production), then given
 * the capture time and routing columns the test chooses.
 */
export async function seedLead(sql: Sql, s: LeadSeed): Promise<string> {
  const email = `${randomUUID().slice(0, 12)}@reports.example`;
  const iso = (ms: number) => new Date(ms).toISOString();
  const lead: LeadRecord = {
    leadId: leadIdFor(email),
    status: s.status,
    ...(s.statusReason ? { statusReason: s.statusReason } : {}),
    profile: { email, source: s.source },
    consent: {},
    engagement: { seen: [], openedEmails: 0, lastEngagementAt: iso(s.createdAt) },
    enrichment: 'not_found',
  };
  const events = (s.events ?? []).map(([type, after, data], i) => ({
    key: `seed:${i}`,
    at: iso(s.createdAt + after),
    type,
    actor: 'system',
    data: data ?? {},
  }));
  await writeLead(sql, { lead, events });
  // Marked changed as every write of the read model is (migration 0019): a fold may have taken the save's mark already.
  await sql`
    WITH seeded AS (
      UPDATE leads SET created_at = ${iso(s.createdAt)}::timestamptz, team_id = ${s.teamId ?? null}, owner_id = ${s.ownerId ?? null},
        priority = ${s.priority ?? null}, sla_breaches = ${s.breaches ?? 0}
      WHERE lead_id = ${lead.leadId}
      RETURNING lead_id)
    INSERT INTO lead_changes (lead_id) SELECT lead_id FROM seeded`;
  return lead.leadId;
}

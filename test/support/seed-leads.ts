import { randomUUID } from 'node:crypto';
import type { Sql } from '../../db/client';
import { writeLead } from '../../db/leads';
import { leadIdFor } from './lead-ids';
import type { LeadSource, LeadStatus } from '../../domain/lead';
import type { LeadRecord } from '../../domain/lead-record';
import type { Priority } from '../../domain/sla';
import type { EngagementType } from '../../domain/engagement';
import { scoreLead } from '../../domain/scoring';
import { resolveLeadConfig } from '../../config/load';

const defaultConfig = resolveLeadConfig({});

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

export interface ScoredLeadSeed {
  /** Capture time (ISO). */
  createdAt: string;
  /** Last update (ISO; default: the capture time): when a backtest re-scores the lead. */
  updatedAt?: string;
  seen: EngagementType[];
  lastEngagementAt?: string;
  title?: string;
  status: LeadStatus;
}

/**
 * A lead for the backtests, written straight to the read model: captured at `createdAt`, last
 * updated at `updatedAt`, scored by the configured model (version 1) then. Answers the lead as written.
 */
export async function seedScoredLead(sql: Sql, options: ScoredLeadSeed): Promise<LeadRecord> {
  const email = `${randomUUID().slice(0, 12)}@backtest.example`;
  const updatedAt = options.updatedAt ?? options.createdAt;
  const engagement = { seen: options.seen, openedEmails: 0, lastEngagementAt: options.lastEngagementAt ?? updatedAt };
  const profile = { email, source: 'newsletter' as const, ...(options.title ? { title: options.title } : {}) };
  const lead: LeadRecord = {
    leadId: leadIdFor(email),
    status: options.status,
    profile,
    consent: {},
    engagement,
    enrichment: 'not_found',
    score: scoreLead(profile, engagement, new Date(updatedAt), defaultConfig),
  };
  await sql.begin((tx) => writeLead(tx, { lead, events: [] }));
  // The capture and last update times are the test's to choose (decay and the window depend on them).
  await sql`UPDATE leads SET created_at = ${options.createdAt}::timestamptz, updated_at = ${updatedAt}::timestamptz WHERE lead_id = ${lead.leadId}`;
  return lead;
}

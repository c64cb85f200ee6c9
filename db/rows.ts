import type { Enrollment } from '../domain/cadence';
import type { Consent } from '../domain/consent';
import type { Engagement } from '../domain/engagement';
import type { LeadSource, LeadStatus } from '../domain/lead';
import type { EnrichmentStatus } from '../domain/lead-record';
import type { Score } from '../domain/scoring';
import type { Segment } from '../domain/routing';
import type { BusinessHours } from '../domain/sla';

/** A row of `reps`, as postgres.js returns it. */
export interface RepRow {
  id: string;
  name: string;
  email: string;
  team_id: string | null;
  weight: number;
  capacity: number;
  active: boolean;
  out_of_office_until: Date | null;
  manager_id: string | null;
  slack_user_id: string | null;
  crm_user_id: string | null;
  api_key_hash: string | null;
  virtual_time: number;
  /** bigint: postgres.js returns it as a string. */
  last_assignment: string;
  /** Leads the rep owns that are `sql` or `accepted`, kept by a trigger (migration 0023). */
  open_leads: number;
  created_at: Date;
}

/** A row of `leads`, as postgres.js returns it. */
export interface LeadRow {
  lead_id: string;
  identity_key: string;
  status: LeadStatus;
  status_reason: string | null;
  owner_id: string | null;
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  title: string | null;
  phone: string | null;
  country: string | null;
  employees: number | null;
  industry: string | null;
  tech_stack: string[];
  funding_stage: string | null;
  source: LeadSource;
  source_detail: string | null;
  consent: Consent;
  /** `{}` for rows written before engagement was recorded. */
  engagement: Engagement | Record<string, never>;
  enrichment: EnrichmentStatus;
  score: number | null;
  grade: Score['grade'] | null;
  score_breakdown: Score['breakdown'];
  score_model_version: number | null;
  team_id: string | null;
  priority: 'P1' | 'P2' | 'P3' | null;
  routing_reason: string | null;
  assigned_at: Date | null;
  sla_due_at: Date | null;
  sla_breaches: number;
  responded_at: Date | null;
  /** bigint: postgres.js returns it as a string. */
  response_ms: string | null;
  cadence: Enrollment | null;
  created_at: Date;
  updated_at: Date;
}

/** A team's row; read through JSON, `assignments` (bigint) comes as a number. */
export interface TeamRow {
  id: string;
  name: string;
  countries: string[];
  segments: Segment[];
  business_hours: BusinessHours;
  manager_id: string | null;
  virtual_time: number;
  assignments: number;
}

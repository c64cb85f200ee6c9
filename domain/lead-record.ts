import type { Capture } from './capture';
import type { Enrollment } from './cadence';
import type { Consent } from './consent';
import { newEngagement, type Engagement } from './engagement';
import type { LeadStatus } from './lead';
import { mergeCapture, type LeadProfile } from './profile';
import type { Score } from './scoring';
import type { Priority } from './sla';

export type EnrichmentStatus = 'pending' | 'enriched' | 'not_found' | 'failed';

/** The lead as the workflow keeps it and Postgres stores it. */
export interface LeadRecord {
  leadId: string;
  status: LeadStatus;
  statusReason?: string;
  profile: LeadProfile;
  consent: Consent;
  engagement: Engagement;
  enrichment: EnrichmentStatus;
  score?: Score;
  /** Set once the lead is routed. */
  routing?: Routing;
  /** Set while marketing nurtures the lead in a cadence (`mql`, `not_ready`). */
  cadence?: Enrollment;
  /** Set while the lead is `recycled`: when, why, and the re-engagements done. */
  recycle?: Recycle;
  /**
   * The last contact with the lead: a rep's accept or logged touch, or outreach (a cadence step) sent.
   * Activity that keeps it from aging. The name predates the glossary and stays: runs carry it over.
   */
  lastTouchAt?: string;
}

/**
 * The lead a first capture makes, before consent, enrichment and scoring: the workflow starts from
 * it, and the API shows it for a lead whose first capture the workflow has taken but not applied yet.
 */
export function newLeadRecord(leadId: string, capture: Capture, at: string): LeadRecord {
  return {
    leadId,
    status: 'new',
    profile: mergeCapture(undefined, capture),
    consent: {},
    engagement: newEngagement(at),
    enrichment: 'pending',
  };
}

export interface Recycle {
  at: string;
  reason: string;
  /** Re-engagements reached so far (docs/design.md, "Recycling and aging": at 30, 60 and 90 days). */
  reengagements: number;
}

/** Who owns a routed lead, why, and where its response SLA stands. */
export interface Routing {
  /** null: in the unassigned queue. */
  ownerId: string | null;
  teamId: string | null;
  reason: string;
  priority: Priority;
  /** The response SLA of the current assignment (ISO-8601) and why. */
  sla: string;
  slaReason: string;
  assignedAt: string | null;
  reminderAt: string | null;
  dueAt: string | null;
  reminded: boolean;
  breaches: number;
  respondedAt: string | null;
  responseMs: number | null;
  ownerManagerId: string | null;
  teamManagerId: string | null;
}

/** What routing decides: the owner (or the unassigned queue), why, and the SLA terms. */
export type Assignment = Pick<
  Routing,
  'ownerId' | 'teamId' | 'reason' | 'priority' | 'sla' | 'slaReason' | 'ownerManagerId' | 'teamManagerId'
>;

/** A rep, manager or ops alert, written to the outbox with the lead's state and delivered at least once. */
export interface OutboxNotification {
  /** De-duplication key: the same alert is never queued twice. */
  key: string;
  kind:
    | 'assignment'
    | 'sla_reminder'
    | 'sla_breach'
    | 'escalation'
    | 'unassigned'
    | 'reassigned'
    | 'cadence_step'
    | 'reengagement'
    /** To the lead: a capture opted in after an opt-out; the email's signed link lets the person confirm it. */
    | 'consent_confirmation'
    /** Ops: an input the lead's data store refused was quarantined. */
    | 'rejected_input'
    /** Ops: the lead's data access has been failing for `dataAccess.retryFor`. */
    | 'data_access_stalled'
    /** Ops: a source's vendor URL was refused (docs/operations/security.md "Outbound calls"): its lead was not fetched. */
    | 'refused_url'
    /** To a CRM connection (the recipient): the lead pushed (docs/features/crm.md). */
    | 'crm_sync'
    /** Ops: a CRM refused a push for good (its validation error), or it kept failing past `notify.deadAfter`. */
    | 'crm_sync_failed';
  /** A rep id, "ops" or a CRM connection id; for outreach to the lead (cadence step, re-engagement, consent confirmation), its address on that channel. */
  recipient: string;
  message: string;
  data: Record<string, unknown>;
}

/** One entry of the lead's timeline; `key` makes writing it idempotent. */
export interface TimelineEvent {
  key: string;
  at: string;
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

import type { Consent } from './consent';
import type { Engagement } from './engagement';
import type { LeadStatus } from './lead';
import type { LeadProfile } from './profile';
import type { Score } from './scoring';

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
}

/** One entry of the lead's timeline; `key` makes writing it idempotent. */
export interface TimelineEvent {
  key: string;
  at: string;
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

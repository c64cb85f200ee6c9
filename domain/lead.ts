/** Every status a lead can be in (docs/design.md, "Lifecycle"). The same words are used in Postgres and in `LeadStatus`. */
export const leadStatuses = ['new', 'not_ready', 'mql', 'sql', 'accepted', 'converted', 'recycled', 'disqualified', 'archived'] as const;
export type LeadStatus = (typeof leadStatuses)[number];

/** Statuses in which the lead's workflow has completed. */
export const closedStatuses: readonly LeadStatus[] = ['converted', 'disqualified', 'archived'];

export const leadSources = [
  'demo_request',
  'pricing_inquiry',
  'chat',
  'trial_signup',
  'referral',
  'webinar',
  'event',
  'contact_form',
  'content_download',
  'newsletter',
  'outbound',
] as const;
export type LeadSource = (typeof leadSources)[number];

export const disqualificationReasons = [
  'wrong_fit',
  'no_budget',
  'competitor_chosen',
  'unresponsive',
  'not_decision_maker',
  'job_seeker',
  'student',
  'duplicate',
  'spam',
  'other',
] as const;
export type DisqualificationReason = (typeof disqualificationReasons)[number];

export const consentStates = ['opted_in', 'opted_out', 'unknown'] as const;

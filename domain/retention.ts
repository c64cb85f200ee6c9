/**
 * What retention prunes, and what it never does (docs/operations/retention.md). Pure, so the SQL
 * in db/retention.ts and the worker's job share one list.
 */

/** The tables retention prunes, one metric label each (`lead_retention_pruned_rows_total`). */
export const retentionTables = ['lead_events', 'notifications', 'source_deliveries', 'idempotency_keys', 'routing_decisions'] as const;
export type RetentionTable = (typeof retentionTables)[number];

/**
 * Timeline events kept as long as their lead, even once it is closed past retention: consent
 * (the proof of what the person said, and when: docs/operations/security.md, "Consent") and the
 * events the funnel report works a lead's milestones out from again whenever the lead changes
 * (`lead_milestones_fresh`, db/migrations/0019_lead_changes.sql): without them a reactivated lead
 * would drop out of past reports.
 */
export const keptEventTypes: readonly string[] = [
  'consent_changed',
  'consent_confirmation_requested',
  'consent_refused',
  'status_changed',
  'converted',
  'assigned',
  'responded',
  'touch',
];

/** Retention ages in milliseconds, per table (from `retention` and `idempotency.expireAfter`). */
export interface RetentionAges {
  /** Since a closed lead last changed. */
  timelineAfterClose: number;
  notifications: number;
  deadNotifications: number;
  sourceDeliveries: number;
  routingDecisions: number;
  /** A key past its replay window is never replayed again. */
  idempotencyKeys: number;
}

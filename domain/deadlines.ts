import type { LeadPolicy } from './config';
import { durationMs } from './duration';
import type { LeadRecord } from './lead-record';
import { acceptedIdleUntil, archiveAt, idleSince, nextReengagementAt } from './recycling';
import { nextDecayAt } from './scoring';

/**
 * When something is next due for an open lead without any signal: the lead workflow sleeps until
 * the earliest of these. Pure arithmetic over the lead and its policy, so it is tested without
 * Temporal; the workflow passes its clock in.
 */

/** What a run knows beside the lead itself. */
export interface RunClock {
  /** While in the unassigned queue: the next routing attempt (epoch ms). */
  routeRetryAt?: number;
  /** When enrichment last failed (ISO), if it did: it is tried again after `enrichment.retryAfter`. */
  enrichmentFailedAt?: string;
}

/** A sales-ready lead whose routing found nobody: it waits in the unassigned queue. */
export const waitingForOwner = (lead: LeadRecord): boolean => lead.status === 'sql' && lead.routing !== undefined && !lead.routing.ownerId;

/** When an open lead closes for want of activity: archived once recycled, disqualified otherwise. */
export const closesAt = (lead: LeadRecord, policy: LeadPolicy): number =>
  archiveAt(lead, policy) ?? idleSince(lead) + durationMs(policy.inactiveDisqualifyAfter);

/** The SLA ladder's next step for a routed lead the owner has not answered: the reminder, then the breach. */
export function slaDeadline(lead: LeadRecord): number | undefined {
  const routing = lead.routing;
  if (lead.status !== 'sql' || !routing?.ownerId || routing.respondedAt || !routing.dueAt) return undefined;
  return new Date(routing.reminded || !routing.reminderAt ? routing.dueAt : routing.reminderAt).getTime();
}

/** When enrichment is tried again after a failure, if it failed. */
export const enrichmentRetryAt = (policy: LeadPolicy, enrichmentFailedAt: string | undefined): number | undefined =>
  enrichmentFailedAt ? new Date(enrichmentFailedAt).getTime() + durationMs(policy.enrichment.retryAfter) : undefined;

/** The next moment something is due without any signal: enrichment retry, a decay step, nurture, the SLA ladder, a routing retry or closing an idle lead. */
export function nextDeadline(lead: LeadRecord, policy: LeadPolicy, run: RunClock, now: Date): number {
  const candidates = [closesAt(lead, policy)];
  if (lead.cadence?.nextStepAt) candidates.push(new Date(lead.cadence.nextStepAt).getTime());
  const reengagement = nextReengagementAt(lead, policy);
  if (reengagement) candidates.push(reengagement.at);
  const acceptedIdle = acceptedIdleUntil(lead, policy);
  if (acceptedIdle !== undefined) candidates.push(acceptedIdle);
  const sla = slaDeadline(lead);
  if (sla !== undefined) candidates.push(sla);
  if (run.routeRetryAt !== undefined && waitingForOwner(lead)) candidates.push(run.routeRetryAt);
  const decay = nextDecayAt(policy.scoring, lead.engagement.lastEngagementAt, now);
  if (decay) candidates.push(decay.getTime());
  const enrichmentRetry = enrichmentRetryAt(policy, run.enrichmentFailedAt);
  if (enrichmentRetry !== undefined) candidates.push(enrichmentRetry);
  return Math.min(...candidates);
}

import type { Client } from '@temporalio/client';
import type { Submission } from '../contracts/vendors';
import type { Sql } from '../db/client';
import { findDelivery, recordDelivery, type StoredSource } from '../db/sources';
import { sha256 } from './vendors/signatures';
import { mapSubmission } from './vendors';
import { takeCapture, type CaptureDeps } from './take';

/** What became of one submission of a delivery (the webhook's answer lists them). */
export interface SubmissionOutcome {
  eventId: string;
  /** `accepted`: a Meta lead whose fields a workflow is fetching. */
  outcome: 'captured' | 'rejected' | 'duplicate' | 'accepted';
  leadId?: string;
  reason?: string;
}

/** The capture id of a vendor event: the same for every redelivery, so the lead's workflow takes it once. */
export const hookCaptureId = (sourceId: string, eventId: string) => `hook-${sha256(`${sourceId}:${eventId}`).toString('hex').slice(0, 32)}`;

/** The workflow id of a Meta lead's fetch (workflows/hooks/meta-lead.ts): the source and Meta's leadgen id, no personal data. */
export const metaLeadWorkflowId = (sourceId: string, leadgenId: string) => `meta-lead-${sourceId}-${leadgenId}`;

/**
 * Takes one verified submission: a vendor event already recorded is a redelivery and records
 * nothing new; one without a usable email is recorded as rejected (listed for ops); the rest go to
 * the lead's workflow on the capture's one path (`takeCapture`, with the event's capture id, so two
 * redeliveries racing are still taken once) and are recorded as captured.
 */
export async function takeSubmission(
  deps: CaptureDeps & { sql: Sql; temporal: Client },
  source: StoredSource,
  submission: Submission,
): Promise<SubmissionOutcome> {
  const { sql } = deps;
  const { eventId } = submission;
  const earlier = await findDelivery(sql, source.id, eventId);
  if (earlier) return { eventId, outcome: 'duplicate', ...(earlier.leadId ? { leadId: earlier.leadId } : {}) };
  const mapped = mapSubmission(submission, source.fieldMapping, source.leadSource);
  if ('rejected' in mapped) {
    await recordDelivery(sql, source.id, { eventId, outcome: 'rejected', reason: mapped.rejected });
    return { eventId, outcome: 'rejected', reason: mapped.rejected };
  }
  const { leadId } = await takeCapture(deps.temporal, deps, { captureId: hookCaptureId(source.id, eventId), capture: mapped.capture });
  await recordDelivery(sql, source.id, { eventId, outcome: 'captured', leadId });
  return { eventId, outcome: 'captured', leadId };
}

import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { sourceActivities } from '../../activities/sources';
import { refusedUrlFailureType } from '../../contracts/failures';
import type { MetaLeadInput } from '../../contracts/meta-lead';

const { captureMetaLead } = proxyActivities<ReturnType<typeof sourceActivities>>({
  startToCloseTimeout: '1 minute',
  // No attempt limit: Meta was answered 2xx once this workflow started, so this lead exists nowhere
  // else; a Graph API that is down (or a token ops must renew) is waited out, backing off to 10 minutes.
  // A refused Graph API URL fails the activity for good (RefusedUrl): nothing to wait out.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/** Why the Graph API URL was refused (the activity recorded the rejection and alerted ops), or undefined for any other failure. */
function refusedUrlReason(error: unknown): string | undefined {
  for (let failure = error; failure instanceof Error; failure = failure.cause) {
    if (failure instanceof ApplicationFailure && failure.type === refusedUrlFailureType) return failure.message;
  }
  return undefined;
}

/** A Meta Lead Ads lead announced by its webhook: its fields fetched from the Graph API and captured (one workflow per lead: a redelivery finds it). */
export async function metaLeadWorkflow(input: MetaLeadInput) {
  try {
    return await captureMetaLead(input);
  } catch (error) {
    const reason = refusedUrlReason(error);
    if (reason === undefined) throw error;
    // Quarantined, not failed: the rejection is listed at GET /sources/{id}/rejections and ops have the alert.
    return { eventId: input.leadgenId, outcome: 'rejected' as const, reason };
  }
}

import { proxyActivities } from '@temporalio/workflow';
import type { sourceActivities } from '../../activities/sources';
import type { MetaLeadInput } from '../../contracts/meta-lead';

const { captureMetaLead } = proxyActivities<ReturnType<typeof sourceActivities>>({
  startToCloseTimeout: '1 minute',
  // No attempt limit: Meta was answered 2xx once this workflow started, so this lead exists nowhere
  // else; a Graph API that is down (or a token ops must renew) is waited out, backing off to 10 minutes.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/** A Meta Lead Ads lead announced by its webhook: its fields fetched from the Graph API and captured (one workflow per lead: a redelivery finds it). */
export async function metaLeadWorkflow(input: MetaLeadInput) {
  return captureMetaLead(input);
}

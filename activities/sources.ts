import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PayloadCodec } from '@temporalio/common';
import type { MetaLeadInput } from '../contracts/meta-lead';
import type { Sql } from '../db/client';
import { findSource } from '../db/sources';
import { leadPolicy, type LeadConfig } from '../domain/config';
import { takeSubmission, type SubmissionOutcome } from '../capture/deliveries';
import { openSecret } from '../capture/secrets';
import { metaLeadAds, type GraphLead } from '../capture/vendors/meta-lead-ads';

/** How long one Graph API call may take before the attempt fails and is retried. */
const graphTimeoutMs = 10_000;

/**
 * The activities of capture sources, run by the lead worker: Meta's lead fetched from
 * the Graph API with the source's page access token (opened here, never passed through Temporal),
 * then taken like any form submission. The token never appears in an error.
 */
export function sourceActivities({ sql, config, codec, leadIdSecret }: { sql: Sql; config: LeadConfig; codec?: PayloadCodec; leadIdSecret: string }) {
  const policy = leadPolicy(config);
  return {
    async captureMetaLead({ sourceId, leadgenId }: MetaLeadInput): Promise<SubmissionOutcome> {
      const source = await findSource(sql, sourceId);
      if (!source || source.vendor !== 'meta_lead_ads' || !source.accessToken || !source.graphApiUrl) {
        throw ApplicationFailure.nonRetryable(`source ${sourceId} is not a Meta Lead Ads source with a Graph API URL and access token`, 'SourceMissing');
      }
      if (!codec) throw new Error('the worker has no payload codec to open the access token with');
      const token = await openSecret(codec, source.accessToken);
      const url = `${source.graphApiUrl.replace(/\/+$/, '')}/${encodeURIComponent(leadgenId)}?fields=id,created_time,field_data`;
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(graphTimeoutMs) }).catch(
        (error: unknown) => {
          throw new Error(`Graph API unreachable: ${error instanceof Error ? error.name : 'error'}`);
        },
      );
      if (!response.ok) throw new Error(`Graph API answered ${response.status} ${response.statusText} for lead ${leadgenId}`);
      const lead = (await response.json().catch(() => undefined)) as GraphLead | undefined;
      if (!lead || typeof lead !== 'object') throw new Error(`Graph API answered lead ${leadgenId} with something other than JSON`);
      const { client, info } = Context.current();
      return takeSubmission(
        { sql, temporal: client, taskQueue: info.taskQueue, policy, leadIdSecret },
        source,
        metaLeadAds.submission({ ...lead, id: leadgenId }),
      );
    },
  };
}

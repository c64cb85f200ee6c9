import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PayloadCodec } from '@temporalio/common';
import type { MetaLeadInput } from '../contracts/meta-lead';
import type { Sql } from '../db/client';
import { enqueueNotifications } from '../db/outbox';
import { findSource, recordDelivery, type StoredSource } from '../db/sources';
import { refusedUrlFailureType } from '../contracts/failures';
import { leadPolicy, type LeadConfig } from '../domain/config';
import { vendorApiHosts } from '../domain/vendor-urls';
import { takeSubmission, type SubmissionOutcome } from '../capture/deliveries';
import { openSecret } from '../capture/secrets';
import { metaLeadAds, type GraphLead } from '../capture/vendors/meta-lead-ads';
import { RefusedUrl, vendorGet, type VendorAnswer } from './vendor-fetch';

/** How long one Graph API call may take before the attempt fails and is retried. */
const graphTimeoutMs = 10_000;

/**
 * The activities of capture sources, run by the lead worker: Meta's lead fetched from
 * the Graph API with the source's page access token (opened here, never passed through Temporal),
 * then taken like any form submission. The token never appears in an error. The Graph API URL is
 * checked again here (the API checks it at registration): a refused one (domain/vendor-urls.ts) is
 * never called, the delivery is recorded as rejected, ops are alerted, and the activity fails for
 * good (`RefusedUrl`) instead of being retried forever. `extraVendorOrigins`: config/env.ts
 * `extraVendorOriginsFrom` (development and tests only).
 */
export function sourceActivities({
  sql,
  config,
  codec,
  leadIdSecret,
  extraVendorOrigins = [],
}: {
  sql: Sql;
  config: LeadConfig;
  codec?: PayloadCodec;
  leadIdSecret: string;
  extraVendorOrigins?: readonly string[];
}) {
  const policy = leadPolicy(config);
  const graphPolicy = { hosts: vendorApiHosts.meta_lead_ads, extraOrigins: extraVendorOrigins };

  /** Records the refusal where ops look (the source's rejections, an alert) and fails without retry. */
  async function refuse(source: StoredSource, leadgenId: string, why: string): Promise<never> {
    const reason = `refused: the Graph API URL of source ${source.id} ${why} (docs/operations/security.md)`;
    await recordDelivery(sql, source.id, { eventId: leadgenId, outcome: 'rejected', reason });
    await enqueueNotifications(sql, null, [
      {
        key: `refused-url:${source.id}:${leadgenId}`,
        kind: 'refused_url',
        recipient: 'ops',
        message: `Meta lead ${leadgenId} of source ${source.id} was not fetched: ${reason}`,
        data: { sourceId: source.id, leadgenId, reason },
      },
    ]);
    throw ApplicationFailure.create({ type: refusedUrlFailureType, message: reason, nonRetryable: true });
  }

  return {
    async captureMetaLead({ sourceId, leadgenId }: MetaLeadInput): Promise<SubmissionOutcome> {
      const source = await findSource(sql, sourceId);
      if (!source || source.vendor !== 'meta_lead_ads' || !source.accessToken || !source.graphApiUrl) {
        throw ApplicationFailure.nonRetryable(
          `source ${sourceId} is not a Meta Lead Ads source with a Graph API URL and access token`,
          'SourceMissing',
        );
      }
      if (!codec) throw new Error('the worker has no payload codec to open the access token with');
      const token = await openSecret(codec, source.accessToken);
      let response: VendorAnswer;
      try {
        response = await vendorGet(source.graphApiUrl, `${encodeURIComponent(leadgenId)}?fields=id,created_time,field_data`, {
          policy: graphPolicy,
          headers: { authorization: `Bearer ${token}` },
          timeoutMs: graphTimeoutMs,
        });
      } catch (error) {
        if (error instanceof RefusedUrl) return refuse(source, leadgenId, error.message);
        throw new Error(`Graph API unreachable: ${error instanceof Error ? error.name : 'error'}`);
      }
      if (response.status < 200 || response.status >= 300)
        throw new Error(`Graph API answered ${response.status} ${response.statusText} for lead ${leadgenId}`);
      let lead: GraphLead | undefined;
      try {
        lead = JSON.parse(response.body) as GraphLead;
      } catch {
        lead = undefined;
      }
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

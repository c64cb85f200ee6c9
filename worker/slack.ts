import { randomBytes } from 'node:crypto';
import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, type WebClient } from '@slack/web-api';
import type { Sql } from '../db/client';
import type { OutboxEntry } from '../db/outbox';
import { slackLeadSummary, slackRep } from '../db/slack';
import { actionLinkToken, linkRecipient } from '../domain/action-links';
import { durationMs } from '../domain/duration';
import { closedStatuses } from '../domain/lead';
import { slackActionTokens, slackAlertMessage } from '../domain/slack-blocks';

/** Why a Slack post failed, whether trying again could help, and how long Slack asked us to wait (a rate limit). */
export class SlackFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'SlackFailure';
  }
}

/**
 * Slack's error codes (`ok: false`) that may pass on a later try; any other code says the request
 * itself is wrong (invalid_auth, token_revoked, channel_not_found, user_not_found, missing_scope,
 * invalid_blocks …) and retrying cannot help: https://docs.slack.dev/reference/methods/chat.postMessage#errors.
 */
const transientSlackErrors: ReadonlySet<string> = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** What a Web API failure means for the outbox entry (the same rules as the webhook's: a 4xx but 408 and 429 is for good). */
export function slackFailure(error: unknown): SlackFailure {
  if (error instanceof WebAPIRateLimitedError)
    return new SlackFailure(`Slack rate limit: retry after ${error.retryAfter} s`, false, error.retryAfter);
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    return new SlackFailure(`Slack answered ${code}`, !transientSlackErrors.has(code));
  }
  if (error instanceof WebAPIHTTPError) {
    const { statusCode: status } = error;
    return new SlackFailure(
      `Slack answered HTTP ${status} ${error.statusMessage}`,
      status >= 400 && status < 500 && status !== 408 && status !== 429,
    );
  }
  if (error instanceof WebAPIRequestError) return new SlackFailure(`Slack request failed: ${error.original.message}`, false);
  return new SlackFailure(error instanceof Error ? `${error.name}: ${error.message}` : String(error), false);
}

export interface SlackDeliveryOptions {
  sql: Sql;
  /** config/slack.ts `slackClient`. */
  client: WebClient;
  /** The key of action links (config/env.ts `actionLinkSecretFrom`); without it alerts carry no buttons. */
  actionLinkSecret?: string;
  /** The API as reps reach it: the "Open lead" link points here. */
  publicBaseUrl: string;
  /** `notify.actionLinksValidFor` (ISO-8601): how long the buttons work. */
  validFor: string;
}

/** What became of a Slack alert: posted (where, for later updates), or not posted on purpose. Failures are thrown (`SlackFailure`). */
export type SlackOutcome = { posted: { channel: string; ts: string } } | { skipped: string };

/**
 * Rep alerts as direct messages from the Slack app (docs/features/email-and-notifications.md
 * "Slack"): `chat.postMessage` to the rep's Slack member id (read when it is sent), Block Kit with
 * the lead's summary (read from its row now) and, on an alert that asks the rep to act, Accept, Log
 * call and Disqualify buttons whose ids are action-link tokens minted for this message.
 */
export function slackDelivery({ sql, client, actionLinkSecret, publicBaseUrl, validFor }: SlackDeliveryOptions) {
  const validForMs = durationMs(validFor);
  return {
    async deliver(entry: OutboxEntry): Promise<SlackOutcome> {
      const rep = await slackRep(sql, entry.recipient);
      if (!rep?.slackUserId) return { skipped: `rep ${entry.recipient} has no Slack member id` };
      const lead = entry.lead_id ? await slackLeadSummary(sql, entry.lead_id) : undefined;
      if (entry.lead_id && !lead) return { skipped: 'the lead is no longer stored' };
      const repId = linkRecipient({ kind: entry.kind, recipient: entry.recipient, leadId: entry.lead_id });
      const link =
        actionLinkSecret && repId && entry.lead_id && lead && !closedStatuses.includes(lead.status)
          ? { leadId: entry.lead_id, repId, nonce: randomBytes(9).toString('base64url') }
          : undefined;
      const expiresAt = new Date(Date.now() + validForMs);
      const message = slackAlertMessage({
        message: entry.message,
        lead,
        tokens: link && slackActionTokens(actionLinkSecret!, link, expiresAt),
        openUrl: link && `${publicBaseUrl}/act/${actionLinkToken(actionLinkSecret!, { ...link, action: 'open' }, expiresAt)}`,
      });
      try {
        // The member id as the channel: the app's direct message with the rep (https://docs.slack.dev/reference/methods/chat.postMessage#app_home).
        const posted = await client.chat.postMessage({ channel: rep.slackUserId, ...message, unfurl_links: false, unfurl_media: false });
        return { posted: { channel: posted.channel ?? rep.slackUserId, ts: posted.ts ?? '' } };
      } catch (error) {
        throw slackFailure(error);
      }
    },
  };
}
export type SlackDelivery = ReturnType<typeof slackDelivery>;

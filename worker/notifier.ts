import { randomBytes } from 'node:crypto';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import ky, { HTTPError } from 'ky';
import { Webhook } from 'standardwebhooks';
import type { Sql } from '../db/client';
import { claimDue, markFailed, markSent, markSentToSlack, markSkipped, type OutboxEntry } from '../db/outbox';
import { alertLinks, linkLabels, linkRecipient } from '../domain/action-links';
import { durationMs } from '../domain/duration';
import { signInEmailKind, signInToken, signInValidForMs } from '../domain/inbox';
import { ATTR_LEAD_ID, ATTR_NOTIFY_CHANNEL, ATTR_NOTIFY_KIND, ATTR_NOTIFY_OUTCOME } from '../observability/tracing';
import { CrmFailure, type CrmDelivery } from './crm';
import { EmailFailure, type EmailDelivery, type EmailOutcome } from './email';
import { repeat } from './repeat';
import { SlackFailure, type SlackDelivery, type SlackOutcome } from './slack';

/** What a channel's call answers: sent (with where, for Slack), or not sent on purpose (`skipped`). Failures are thrown. */
type Delivered = EmailOutcome | SlackOutcome | Awaited<ReturnType<CrmDelivery['deliver']>> | { sent: true };

/** Slack's link markup (`<url|label>`), joined by middle dots; a label's own `<`, `>` and `|` are left out. */
const slackLinks = (links: Record<string, string>) =>
  Object.entries(links)
    .map(([action, url]) => `<${url}|${(linkLabels[action] ?? action).replace(/[<>|]/g, '')}>`)
    .join(' · ');

/**
 * The notifier's `links`: action links (domain/action-links.ts) on the alerts that carry them,
 * bound to their recipient, valid for `validFor` (ISO-8601) from the moment of delivery, with a
 * fresh nonce each time; and the rep inbox's sign-in link (domain/inbox.ts) on its email, valid for
 * 15 minutes from delivery.
 */
export function actionLinksFor({ publicBaseUrl, secret, validFor }: { publicBaseUrl: string; secret: string; validFor: string }) {
  const validForMs = durationMs(validFor);
  return (entry: OutboxEntry): Record<string, string> | undefined => {
    if (entry.kind === signInEmailKind) {
      const link = { repId: entry.recipient, nonce: randomBytes(16).toString('base64url') };
      return { signIn: `${publicBaseUrl}/inbox/sign-in/${signInToken(secret, link, new Date(Date.now() + signInValidForMs))}` };
    }
    const repId = linkRecipient({ kind: entry.kind, recipient: entry.recipient, leadId: entry.lead_id });
    if (!repId || !entry.lead_id) return undefined;
    return alertLinks(publicBaseUrl, secret, {
      leadId: entry.lead_id,
      repId,
      validForMs,
      now: new Date(),
      nonce: randomBytes(9).toString('base64url'),
    });
  };
}

/** What became of one delivery attempt. */
export type DeliveryOutcome = 'sent' | 'retrying' | 'dead' | 'skipped';

export interface NotifierOptions {
  sql: Sql;
  /** Slack-compatible incoming webhook; without one, notifications are marked skipped. */
  webhookUrl?: string;
  /** Standard Webhooks secret (`whsec_…`): every webhook delivery is signed with it. */
  webhookSecret?: string;
  /** SMTP delivery of entries on the `email` channel; without it they are marked skipped with `emailDisabledBecause`. */
  email?: EmailDelivery;
  emailDisabledBecause?: string;
  /** Slack delivery of entries on the `slack` channel (worker/slack.ts); without it they are marked skipped. */
  slack?: SlackDelivery;
  /** The bot token, kept out of every message that is logged or stored. */
  slackBotToken?: string;
  /** Pushes of the `crm` channel (worker/crm.ts); without it they are marked skipped. */
  crm?: CrmDelivery;
  /** `notify.deadAfter`: an entry still failing this long (ISO-8601) after it was queued is dead-lettered. */
  deadAfter: string;
  pollMs?: number;
  batchSize?: number;
  /** Where failures are told; `leadId` is the entry's lead, for the worker's log lines. */
  log?: (line: string, fields?: { leadId?: string }) => void;
  /**
   * The one-click action links an entry carries (domain/action-links.ts), minted at delivery so
   * each attempt's links are valid for the full time; undefined: none.
   */
  links?: (entry: OutboxEntry) => Record<string, string> | undefined;
  /** Called once per attempt: the hook for delivery metrics (counters by outcome). */
  onOutcome?: (outcome: DeliveryOutcome, entry: OutboxEntry) => void;
  /**
   * Whether the worker is saturated with lead work now (workflow tasks and local activities
   * queuing on its cores): while it is, CRM pushes wait, for at most `crmYieldMs` at a stretch, so
   * that routing and the rep's alert come first and the CRM record follows seconds later. Alerts
   * never wait. Undefined: never.
   */
  busy?: () => boolean;
  /** The longest stretch CRM pushes wait for a busy worker before a pass runs anyway (default 30 s). */
  crmYieldMs?: number;
  /**
   * With tracing on: each attempt at an entry queued in a trace continues it (`notify <kind>`, and
   * `deliver <channel>` around the call to the email server, Slack, the webhook or the CRM).
   */
  tracer?: Tracer;
}

/** Seconds to wait before attempt n+1: 2, 4, 8 … up to 10 minutes. */
const backoffSeconds = (attempts: number) => Math.min(2 ** attempts, 600);

/** A 4xx means the request itself is wrong (revoked hook, bad payload): retrying cannot help, except for timeouts and rate limits. */
const isPermanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * A Slack-style webhook URL is its own credential (the token is in the path), and error messages
 * (ky's HTTPError, fetch's) quote it: every form of it is replaced before a message is logged or
 * stored in `last_error`, which ops read through the API.
 */
export function webhookScrubber(webhookUrl: string): (text: string) => string {
  const url = new URL(webhookUrl);
  const forms = [webhookUrl, url.href, `${url.pathname}${url.search}`, decodeURIComponent(url.pathname), url.username, url.password]
    .filter((form) => form.length > 1)
    // Longest first, so that the whole URL is replaced before its path alone.
    .sort((a, b) => b.length - a.length);
  return (text) => forms.reduce((scrubbed, form) => scrubbed.replaceAll(form, '<webhook URL>'), text);
}

/** Why an attempt failed, in words for ops, whether retrying could help, and how long the receiver asked us to wait. */
async function describeFailure(error: unknown): Promise<{ reason: string; permanent: boolean; retryAfterSeconds?: number; code?: string }> {
  if (error instanceof EmailFailure) return { reason: error.message, permanent: error.permanent };
  if (error instanceof SlackFailure)
    return { reason: error.message, permanent: error.permanent, retryAfterSeconds: error.retryAfterSeconds };
  if (error instanceof CrmFailure)
    return { reason: error.message, permanent: error.permanent, retryAfterSeconds: error.retryAfterSeconds, code: error.code };
  if (error instanceof HTTPError) {
    const { status, statusText } = error.response;
    // The receiver's body usually says why (Slack: "invalid_token", "channel_not_found").
    const body = await error.response.text().then(
      (text) => text.trim().slice(0, 200),
      () => '',
    );
    return { reason: `webhook answered ${status} ${statusText}${body ? `: ${body}` : ''}`, permanent: isPermanent(status) };
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { reason: `${error.name}: ${error.message}${cause}`, permanent: false };
  }
  return { reason: String(error), permanent: false };
}

/**
 * Delivers the notifications outbox at least once: claims due rows with SKIP LOCKED (several
 * workers can run), posts each to the webhook with its de-duplication key (or sends it by email,
 * or posts it to Slack, by its channel), and backs off on failure. A claimed row that is never answered (crash) becomes due again when its lease ends.
 * A permanent failure, or one past `deadAfter`, dead-letters the entry with its reason.
 */
export function startNotifier(options: NotifierOptions) {
  const {
    sql,
    webhookUrl,
    webhookSecret,
    email,
    emailDisabledBecause = 'email is not configured',
    slack,
    slackBotToken,
    crm,
    deadAfter,
    pollMs = 500,
    batchSize = 50,
    log = () => {},
    onOutcome = () => {},
    links = () => undefined,
    tracer,
    busy = () => false,
    crmYieldMs = 30_000,
  } = options;
  // The webhook URL and the SMTP URL (its password) are credentials that error messages may quote.
  const scrubbers = [webhookUrl, email?.smtpUrl].filter((url): url is string => !!url).map(webhookScrubber);
  const scrub = (text: string) =>
    scrubbers.reduce(
      (scrubbed, scrubber) => scrubber(scrubbed),
      slackBotToken ? text.replaceAll(slackBotToken, '<Slack bot token>') : text,
    );
  const deadAfterSeconds = durationMs(deadAfter) / 1000;
  const signer = webhookSecret ? new Webhook(webhookSecret) : undefined;

  /** Posts the entry to the webhook, signed (Standard Webhooks: the id is the entry's key, the same on every attempt). */
  async function post(url: string, n: OutboxEntry) {
    const entryLinks = links(n);
    const text = `[${n.recipient}] ${n.message}${entryLinks ? ` ${slackLinks(entryLinks)}` : ''}`;
    const body = JSON.stringify({
      text,
      kind: n.kind,
      recipient: n.recipient,
      leadId: n.lead_id,
      data: n.data,
      ...(entryLinks && { links: entryLinks }),
    });
    const at = new Date();
    const signature = signer
      ? {
          'webhook-id': n.dedupe_key,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signer.sign(n.dedupe_key, at, body),
        }
      : {};
    await ky.post(url, {
      body,
      headers: { 'content-type': 'application/json', 'idempotency-key': n.dedupe_key, ...signature },
      timeout: 5000,
      retry: 0,
    });
  }

  const skipReasons = {
    email: () => (email ? undefined : emailDisabledBecause),
    slack: () => (slack ? undefined : 'SLACK_BOT_TOKEN is not set'),
    crm: () => (crm ? undefined : 'CRM delivery is not configured'),
    webhook: () => (webhookUrl ? undefined : 'NOTIFY_WEBHOOK_URL is not set'),
  } satisfies Record<OutboxEntry['channel'], () => string | undefined>;

  /** The call to the email server, Slack, the webhook or the CRM, as a `deliver <channel>` span of the attempt's when it is traced. */
  function send<T>(n: OutboxEntry, traced: boolean, call: () => Promise<T>): Promise<T> {
    if (!tracer || !traced) return call();
    return tracer.startActiveSpan(
      `deliver ${n.channel}`,
      { kind: SpanKind.CLIENT, attributes: { [ATTR_NOTIFY_CHANNEL]: n.channel } },
      (span) =>
        call().then(
          (value) => (span.end(), value),
          (error: unknown) => {
            span.setStatus({ code: SpanStatusCode.ERROR });
            span.end();
            throw error;
          },
        ),
    );
  }

  /** The call for the entry's channel: `skipped` when it is not sent on purpose, `posted` where Slack put it. */
  function call(n: OutboxEntry): Promise<Delivered> {
    switch (n.channel) {
      case 'email':
        return email!.deliver(n, links(n));
      case 'crm':
        return crm!.deliver(n);
      case 'slack':
        return slack!.deliver(n);
      case 'webhook':
        return post(webhookUrl!, n).then(() => ({ sent: true as const }));
    }
  }

  /** One attempt at an entry; answers what became of it. */
  async function attempt(n: OutboxEntry, traced: boolean): Promise<DeliveryOutcome> {
    const skipBecause = skipReasons[n.channel]();
    if (skipBecause) {
      await markSkipped(sql, n.id, skipBecause);
      return 'skipped';
    }
    try {
      const outcome = await send(n, traced, () => call(n));
      if ('skipped' in outcome) {
        await markSkipped(sql, n.id, outcome.skipped);
        return 'skipped';
      }
      // A Slack post is kept with where it went, so the alert can be updated when the lead moves on.
      if ('posted' in outcome) await markSentToSlack(sql, n.id, outcome.posted);
      else await markSent(sql, n.id);
      return 'sent';
    } catch (error) {
      const { reason, permanent, retryAfterSeconds = 0, code } = await describeFailure(error);
      const message = scrub(reason);
      // A rate limit's Retry-After (Slack, a CRM) is honoured: the next attempt comes no earlier.
      const retryInSeconds = Math.max(backoffSeconds(n.attempts), retryAfterSeconds);
      const status = await markFailed(sql, n.id, { error: message, permanent, retryInSeconds, deadAfterSeconds });
      const fields = n.lead_id ? { leadId: n.lead_id } : {};
      log(
        status === 'dead'
          ? `notifier: ${n.dedupe_key} dead-lettered after ${n.attempts} attempt(s): ${message}`
          : `notifier: delivery of ${n.dedupe_key} failed (attempt ${n.attempts}): ${message}`,
        fields,
      );
      // A push the CRM will never take is quarantined on the lead's timeline and told to ops; the lead goes on.
      if (status === 'dead' && n.channel === 'crm') {
        await crm!
          .deadLettered(n, code ?? 'UNKNOWN')
          .catch((e: unknown) => log(`notifier: quarantining ${n.dedupe_key} failed: ${e instanceof Error ? e.message : e}`, fields));
      }
      return status === 'dead' ? 'dead' : 'retrying';
    }
  }

  /**
   * Attempts an entry; one queued in a trace (`trace_parent`, db/outbox.ts) is attempted in a
   * `notify <kind>` span of it, so a capture's trace goes on to its rep's alert: each attempt is a
   * span of the trace, later than the capture by the outbox's wait.
   */
  async function deliver(n: OutboxEntry) {
    const parent = tracer && n.trace_parent ? propagation.extract(ROOT_CONTEXT, { traceparent: n.trace_parent }) : undefined;
    const outcome = parent
      ? await tracer!.startActiveSpan(
          `notify ${n.kind}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: { [ATTR_NOTIFY_KIND]: n.kind, [ATTR_NOTIFY_CHANNEL]: n.channel, ...(n.lead_id && { [ATTR_LEAD_ID]: n.lead_id }) },
          },
          parent,
          async (span: Span) => {
            try {
              const outcome = await attempt(n, true);
              span.setAttribute(ATTR_NOTIFY_OUTCOME, outcome);
              if (outcome === 'retrying' || outcome === 'dead') span.setStatus({ code: SpanStatusCode.ERROR });
              return outcome;
            } finally {
              span.end();
            }
          },
        )
      : await attempt(n, false);
    onOutcome(outcome, n);
  }

  /** One pass over what is due (alerts and outreach, or CRM pushes); returns how many were attempted. */
  const dispatch = (crm: boolean) => async (): Promise<number> => {
    const due = await claimDue(sql, batchSize, { crm });
    await Promise.all(due.map(deliver));
    return due.length;
  };

  /** CRM pushes: a pass is skipped while the worker is busy, until it has waited `crmYieldMs`. */
  let yieldingSince: number | undefined;
  const dispatchCrm = dispatch(true);
  const crmPass = async (): Promise<number> => {
    if (busy()) {
      yieldingSince ??= Date.now();
      if (Date.now() - yieldingSince < crmYieldMs) return 0;
    }
    yieldingSince = undefined;
    return dispatchCrm();
  };

  // Two loops: a CRM's pace (or its timeouts) never delays the next pass over the alerts.
  const onError = (error: unknown) => log(scrub(`notifier: ${error instanceof Error ? error.message : error}`));
  const loops = [repeat(dispatch(false), pollMs, onError), repeat(crmPass, pollMs, onError)];

  return {
    async stop() {
      await Promise.all(loops.map((loop) => loop.stop()));
      email?.close();
    },
  };
}

import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Sql } from '../db/client';
import { emailLead, repEmail } from '../db/email';
import type { OutboxEntry } from '../db/outbox';
import { templateStore } from '../db/templates';
import { linkLabels } from '../domain/action-links';
import { renderTemplate, testEmailKind, type RenderedEmail } from '../domain/email-template';
import { signInEmailKind } from '../domain/inbox';
import {
  confirmationLinkValidForDays,
  consentConfirmationToken,
  unsubscribeLinkValidForDays,
  unsubscribeToken,
} from '../domain/unsubscribe';

/** Why an email could not be sent now, and whether trying again could help. */
export class EmailFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'EmailFailure';
  }
}

export interface EmailDeliveryOptions {
  sql: Sql;
  /** `smtp://user:pass@host:port` or `smtps://…` (nodemailer's connection URL). */
  smtpUrl: string;
  from: string;
  /** The API as recipients reach it: unsubscribe links point here. */
  publicBaseUrl: string;
  unsubscribeSecret: string;
}

/** What became of an email: sent, or not sent on purpose (and why). Failures are thrown (`EmailFailure`). */
export type EmailOutcome = { sent: true } | { skipped: string };

/** The template an alert to a rep is rendered from when marketing has published one; otherwise the alert's own words. */
export const alertTemplateName = (kind: string) => `alerts/${kind}`;

/**
 * Email over SMTP for the notifier. Outreach to a lead is sent only if the lead is still
 * stored and its email consent is `opted_in` right now (read from Postgres just before sending, so an
 * unsubscribe that lands after the step was queued still stops it), rendered from the newest version
 * of its template with the lead's fields, and carries a signed one-click unsubscribe link
 * (RFC 8058). An alert to a rep goes to the rep's current address.
 */
export function emailDelivery({ sql, smtpUrl, from, publicBaseUrl, unsubscribeSecret }: EmailDeliveryOptions) {
  // A small pool: the notifier sends a batch at once, and a connection per email would be refused by most servers.
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  const templates = templateStore(sql);
  const senderDomain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
  /** The same for every attempt of one entry, so a receiver can drop the copy a crash between sending and marking it sent causes. */
  const messageId = (entry: OutboxEntry) => `<${createHash('sha256').update(entry.dedupe_key).digest('hex').slice(0, 32)}@${senderDomain}>`;

  async function send(entry: OutboxEntry, to: string, email: RenderedEmail, headers: Record<string, string> = {}) {
    try {
      await transport.sendMail({
        from,
        to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: messageId(entry),
        headers,
      });
    } catch (error) {
      const { message, responseCode } = error as { message?: string; responseCode?: number };
      // SMTP replies quote the recipient ("550 <jane@acme.io>: no such user"): no address goes into logs or last_error.
      const reason = (message ?? String(error)).replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, '<address>');
      // 5xx: the server refuses this message for good (no such mailbox, policy); anything else may pass later.
      throw new EmailFailure(`SMTP: ${reason}`, typeof responseCode === 'number' && responseCode >= 500);
    }
  }

  async function outreach(entry: OutboxEntry): Promise<EmailOutcome> {
    const lead = entry.lead_id ? await emailLead(sql, entry.lead_id) : undefined;
    if (!lead) return { skipped: 'the lead is no longer stored' };
    if (lead.emailConsent !== 'opted_in') return { skipped: `email consent is ${lead.emailConsent}` };
    const name = String(entry.data.template ?? '');
    const template = await templates.current(name);
    // Not permanent: the email goes out once marketing publishes the template (within notify.deadAfter).
    if (!template) throw new EmailFailure(`no version of email template "${name}" is published (POST /templates)`, false);
    const expiresAt = new Date(Date.now() + unsubscribeLinkValidForDays * 24 * 3600 * 1000);
    const unsubscribeUrl = `${publicBaseUrl}/unsubscribe/${unsubscribeToken(unsubscribeSecret, lead.leadId, expiresAt)}`;
    const { emailConsent: _, leadId, ...fields } = lead;
    const rendered = await renderTemplate(template, { lead: { id: leadId, ...fields }, unsubscribeUrl, step: entry.data });
    await send(entry, lead.email, rendered, {
      'List-Unsubscribe': `<${unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    return { sent: true };
  }

  /**
   * The double opt-in email (docs/operations/security.md, "Consent"): sent only while the lead's
   * email consent is still `opted_out`, with a signed link whose page asks the person to confirm.
   * Fixed words, no template and nothing captured in it: the capture that asked for it may be anyone's.
   */
  async function confirmation(entry: OutboxEntry): Promise<EmailOutcome> {
    const lead = entry.lead_id ? await emailLead(sql, entry.lead_id) : undefined;
    if (!lead) return { skipped: 'the lead is no longer stored' };
    if (lead.emailConsent !== 'opted_out') return { skipped: `email consent is ${lead.emailConsent}: nothing to confirm` };
    const expiresAt = new Date(Date.now() + confirmationLinkValidForDays * 24 * 3600 * 1000);
    const confirmUrl = `${publicBaseUrl}/consent/confirm/${consentConfirmationToken(unsubscribeSecret, lead.leadId, expiresAt)}`;
    await send(entry, lead.email, {
      subject: 'Please confirm you want our email again',
      text:
        'A form we received asked us to send you marketing email again. You unsubscribed before, so we ' +
        `send nothing until you confirm:\n\n${confirmUrl}\n\nIf this was not you, ignore this email: you stay unsubscribed.\n`,
    });
    return { sent: true };
  }

  /**
   * The rep inbox's sign-in email (docs/features/rep-inbox.md): fixed words and the link the
   * notifier minted at delivery. Without a link (no ACTION_LINK_SECRET in the worker) there is
   * nothing to send.
   */
  async function signIn(entry: OutboxEntry, links?: Record<string, string>): Promise<EmailOutcome> {
    const to = await repEmail(sql, entry.recipient);
    if (!to) return { skipped: `rep ${entry.recipient} has no email address` };
    if (!links?.signIn) return { skipped: 'ACTION_LINK_SECRET is not set: no sign-in link to send' };
    await send(entry, to, {
      subject: 'Sign in to your lead inbox',
      text:
        `Open this link within 15 minutes to sign in to your lead inbox (it works once):\n\n${links.signIn}\n\n` +
        'If you did not ask to sign in, ignore this email: nobody can sign in without the link.\n',
    });
    return { sent: true };
  }

  async function alert(entry: OutboxEntry, links?: Record<string, string>): Promise<EmailOutcome> {
    const to = await repEmail(sql, entry.recipient);
    if (!to) return { skipped: `rep ${entry.recipient} has no email address` };
    const template = await templates.current(alertTemplateName(entry.kind));
    const variables = {
      lead: { id: entry.lead_id ?? '' },
      alert: { kind: entry.kind, message: entry.message, recipient: entry.recipient },
      ...(links && { links }),
    };
    const rendered = template
      ? await renderTemplate(template, variables)
      : {
          subject: `Lead alert (${entry.kind.replaceAll('_', ' ')})${entry.lead_id ? `: ${entry.lead_id}` : ''}`,
          text: `${entry.message}\n`,
        };
    // The links go into the text body whether or not the template uses them: the rep can always act from the alert.
    const linkLines = links ? Object.entries(links).map(([action, url]) => `${linkLabels[action] ?? action}: ${url}`) : [];
    await send(
      entry,
      to,
      linkLines.length ? { ...rendered, text: `${rendered.text.replace(/\n*$/, '')}\n\n${linkLines.join('\n')}\n` } : rendered,
    );
    return { sent: true };
  }

  /** A test email of a draft template: rendered when it was queued (api/routes/templates.ts), sent as it is to the address it names. */
  async function test(entry: OutboxEntry): Promise<EmailOutcome> {
    const { to, subject, text, html } = entry.data as { to?: string; subject?: string; text?: string; html?: string };
    if (!to || subject === undefined || text === undefined) return { skipped: 'the test email has no address or content' };
    await send(entry, to, { subject, text, ...(html !== undefined && { html }) });
    return { sent: true };
  }

  return {
    smtpUrl,
    /** Sends the email an outbox entry on the `email` channel stands for. */
    deliver(entry: OutboxEntry, links?: Record<string, string>): Promise<EmailOutcome> {
      if (entry.kind === 'consent_confirmation') return confirmation(entry);
      if (entry.kind === signInEmailKind) return signIn(entry, links);
      if (entry.kind === testEmailKind) return test(entry);
      return entry.kind === 'cadence_step' || entry.kind === 'reengagement' ? outreach(entry) : alert(entry, links);
    },
    close() {
      transport.close();
    },
  };
}
export type EmailDelivery = ReturnType<typeof emailDelivery>;

import type { ParsedMail } from 'mailparser';
import { loadLeadConfig } from '../../config/load';
import { emailDelivery } from '../../worker/email';
import { actionLinksFor, startNotifier } from '../../worker/notifier';
import type { ServiceUnderTest } from './helpers';
import { Mailbox } from './mailbox';

/**
 * The notifier delivering a service's email entries to an SMTP server in this process (the
 * database should be the test's own: the notifier delivers every due entry in it), with action
 * links signed under `secret`; alerts also go to `webhookUrl` when given.
 */
export async function startAlertMail(service: ServiceUnderTest, secret: string, { webhookUrl }: { webhookUrl?: string } = {}) {
  const mailbox = await new Mailbox().start();
  const { deadAfter, actionLinksValidFor } = loadLeadConfig('').notify;
  const notifier = startNotifier({
    sql: service.sql,
    email: emailDelivery({
      sql: service.sql,
      smtpUrl: mailbox.url,
      from: 'Leads <leads@acme.test>',
      publicBaseUrl: service.baseUrl,
      unsubscribeSecret: secret,
    }),
    webhookUrl,
    links: actionLinksFor({ publicBaseUrl: service.baseUrl, secret, validFor: actionLinksValidFor }),
    deadAfter,
    pollMs: 100,
  });
  return {
    mailbox,
    async stop() {
      await notifier.stop();
      await mailbox.stop();
    },
  };
}

const labels: Record<string, string> = { 'Open lead': 'open', Accept: 'accept', 'Log call': 'call', 'Log email': 'email' };

/** The action links in an alert email's text, by action (`Accept: https://…/act/…` lines). */
export const linksIn = (mail: ParsedMail): Record<string, string> =>
  Object.fromEntries(
    [...(mail.text ?? '').matchAll(/^(Open lead|Accept|Log call|Log email): (\S+)$/gm)].map(([, label, url]) => [labels[label!]!, url!]),
  );

import { createHmac } from 'node:crypto';

/**
 * Consumer mail domains whose mailboxes ignore dots and/or `+tags` in the local part, so
 * `Jane.Doe+promo@gmail.com` and `janedoe@gmail.com` reach the same person.
 */
const mailboxRules: Record<string, { ignoresDots: boolean; canonicalDomain?: string }> = {
  'gmail.com': { ignoresDots: true },
  'googlemail.com': { ignoresDots: true, canonicalDomain: 'gmail.com' },
  'outlook.com': { ignoresDots: false },
  'hotmail.com': { ignoresDots: false },
  'live.com': { ignoresDots: false },
  'icloud.com': { ignoresDots: false },
  'me.com': { ignoresDots: false },
  'proton.me': { ignoresDots: false },
  'protonmail.com': { ignoresDots: false },
  'fastmail.com': { ignoresDots: false },
};

/** The identity key of a person: the email trimmed, lower-cased and, for known consumer domains, stripped of what the mailbox ignores. */
export function identityKey(email: string): string {
  const normalised = email.trim().toLowerCase();
  const at = normalised.lastIndexOf('@');
  if (at <= 0) return normalised;
  let local = normalised.slice(0, at);
  const domain = normalised.slice(at + 1);
  const rule = mailboxRules[domain];
  if (!rule) return normalised;
  local = local.split('+')[0] ?? local;
  if (rule.ignoresDots) local = local.replaceAll('.', '');
  return `${local}@${rule.canonicalDomain ?? domain}`;
}

/**
 * The lead id, which is also the workflow id: stable for a person, free of PII, and keyed. It is an
 * HMAC of the identity key under the deployment's lead id secret (config/env.ts `leadIdSecretFrom`),
 * so nobody without the secret can compute a person's id from an email and probe whether they are
 * a lead (docs/operations/security.md). The secret is for good: a new one gives every person a new id.
 */
export function leadIdFor(email: string, secret: string): string {
  return 'lead-' + createHmac('sha256', secret).update(identityKey(email)).digest('hex').slice(0, 24);
}

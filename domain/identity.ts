import { createHash } from 'node:crypto';

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

/** The lead id, which is also the workflow id: stable for a person, and free of PII. */
export function leadIdFor(email: string): string {
  return 'lead-' + createHash('sha256').update(identityKey(email)).digest('hex').slice(0, 24);
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed links in emails to leads. Unsubscribe links (RFC 8058): `/unsubscribe/{token}`; consent
 * confirmation links (double opt-in): `/consent/confirm/{token}`. A token names the lead and an
 * expiry and is signed with HMAC-SHA256 under `UNSUBSCRIBE_SECRET`, so a link cannot be made for
 * another lead or used after it expires. It carries the lead id only (no personal data). The
 * version prefix names what the link does and is signed with the rest, so a token of one kind is
 * never taken for the other.
 * Format: `<v1 | c1>.<lead id, base64url>.<expiry, unix seconds>.<signature, base64url>`.
 */

/** How long a link in an email works: longer than people keep old newsletters around. */
export const unsubscribeLinkValidForDays = 180;
/** How long a confirmation link works: it answers a form the person just sent, so days, not months. */
export const confirmationLinkValidForDays = 7;

const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');

type LinkKind = 'v1' | 'c1';

function signedToken(kind: LinkKind, secret: string, leadId: string, expiresAt: Date): string {
  const payload = `${kind}.${Buffer.from(leadId).toString('base64url')}.${Math.floor(expiresAt.getTime() / 1000)}`;
  return `${payload}.${sign(secret, payload)}`;
}

export type TokenCheck = { leadId: string } | { problem: 'malformed' | 'bad_signature' | 'expired' };

/** The signature is checked before anything in the token is believed. */
function checkToken(kind: LinkKind, secret: string, token: string, now: Date): TokenCheck {
  const match = /^(([a-z]\d)\.([A-Za-z0-9_-]{1,200})\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match || match[2] !== kind) return { problem: 'malformed' };
  const [, payload, , lead, expiry, signature] = match;
  const expected = Buffer.from(sign(secret, payload!));
  if (!timingSafeEqual(expected, Buffer.from(signature!))) return { problem: 'bad_signature' };
  if (Number(expiry) * 1000 <= now.getTime()) return { problem: 'expired' };
  return { leadId: Buffer.from(lead!, 'base64url').toString() };
}

export function unsubscribeToken(secret: string, leadId: string, expiresAt: Date): string {
  return signedToken('v1', secret, leadId, expiresAt);
}

/** The lead a token unsubscribes, or why it is refused. */
export function checkUnsubscribeToken(secret: string, token: string, now = new Date()): TokenCheck {
  return checkToken('v1', secret, token, now);
}

export function consentConfirmationToken(secret: string, leadId: string, expiresAt: Date): string {
  return signedToken('c1', secret, leadId, expiresAt);
}

/** The lead whose email opt-in a token confirms, or why it is refused. */
export function checkConsentConfirmationToken(secret: string, token: string, now = new Date()): TokenCheck {
  return checkToken('c1', secret, token, now);
}

import { checkSignedToken, signToken } from './signed-token';

/**
 * Signed links in emails to leads. Unsubscribe links (RFC 8058): `/unsubscribe/{token}`; consent
 * confirmation links (double opt-in): `/consent/confirm/{token}`. A token names the lead and an
 * expiry and is signed with HMAC-SHA256 under `UNSUBSCRIBE_SECRET`, so a link cannot be made for
 * another lead or used after it expires. It carries the lead id only (no personal data). The
 * kind (`v1` unsubscribes, `c1` confirms) is signed with the rest, so a token of one kind is
 * never taken for the other (domain/signed-token.ts).
 */

/** How long a link in an email works: longer than people keep old newsletters around. */
export const unsubscribeLinkValidForDays = 180;
/** How long a confirmation link works: it answers a form the person just sent, so days, not months. */
export const confirmationLinkValidForDays = 7;

type LinkKind = 'v1' | 'c1';

export type TokenCheck = { leadId: string } | { problem: 'malformed' | 'bad_signature' | 'expired' };

function checkToken(kind: LinkKind, secret: string, token: string, now: Date): TokenCheck {
  const check = checkSignedToken(secret, kind, 1, token, now);
  return 'problem' in check ? check : { leadId: check.parts[0]! };
}

export function unsubscribeToken(secret: string, leadId: string, expiresAt: Date): string {
  return signToken(secret, 'v1', [leadId], expiresAt);
}

/** The lead a token unsubscribes, or why it is refused. */
export function checkUnsubscribeToken(secret: string, token: string, now = new Date()): TokenCheck {
  return checkToken('v1', secret, token, now);
}

export function consentConfirmationToken(secret: string, leadId: string, expiresAt: Date): string {
  return signToken(secret, 'c1', [leadId], expiresAt);
}

/** The lead whose email opt-in a token confirms, or why it is refused. */
export function checkConsentConfirmationToken(secret: string, token: string, now = new Date()): TokenCheck {
  return checkToken('c1', secret, token, now);
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Unsubscribe links (RFC 8058): `/unsubscribe/{token}`, where the token names the lead
 * and an expiry and is signed with HMAC-SHA256 under `UNSUBSCRIBE_SECRET`, so a link cannot be
 * made for another lead or used after it expires. It carries the lead id only (no personal data).
 * Format: `v1.<lead id, base64url>.<expiry, unix seconds>.<signature, base64url>`.
 */

/** How long a link in an email works: longer than people keep old newsletters around. */
export const unsubscribeLinkValidForDays = 180;

const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');

export function unsubscribeToken(secret: string, leadId: string, expiresAt: Date): string {
  const payload = `v1.${Buffer.from(leadId).toString('base64url')}.${Math.floor(expiresAt.getTime() / 1000)}`;
  return `${payload}.${sign(secret, payload)}`;
}

export type TokenCheck = { leadId: string } | { problem: 'malformed' | 'bad_signature' | 'expired' };

/** The lead a token unsubscribes, or why it is refused. The signature is checked before anything in it is believed. */
export function checkUnsubscribeToken(secret: string, token: string, now = new Date()): TokenCheck {
  const match = /^(v1\.([A-Za-z0-9_-]{1,200})\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { problem: 'malformed' };
  const [, payload, lead, expiry, signature] = match;
  const expected = Buffer.from(sign(secret, payload!));
  if (!timingSafeEqual(expected, Buffer.from(signature!))) return { problem: 'bad_signature' };
  if (Number(expiry) * 1000 <= now.getTime()) return { problem: 'expired' };
  return { leadId: Buffer.from(lead!, 'base64url').toString() };
}

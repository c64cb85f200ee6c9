import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring tokens for links that act without an API key (unsubscribe, rep action links):
 * `<kind>.<part, base64url>….<expiry, unix seconds>.<signature, base64url>`, signed with
 * HMAC-SHA256 over everything before the signature, so no part can be changed, swapped between
 * tokens or reused under another kind. The parts are ids only (a token sits in mail archives).
 */

const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');

export function signToken(secret: string, kind: string, parts: readonly string[], expiresAt: Date): string {
  const encoded = parts.map((part) => Buffer.from(part).toString('base64url'));
  const payload = [kind, ...encoded, Math.floor(expiresAt.getTime() / 1000)].join('.');
  return `${payload}.${sign(secret, payload)}`;
}

export type SignedTokenCheck = { parts: string[] } | { problem: 'malformed' | 'bad_signature' | 'expired' };

const maxPartChars = 200;

/**
 * The parts of a token of `kind` with exactly `partCount` parts, or why it is refused. The
 * signature is checked before anything in it is believed.
 */
export function checkSignedToken(secret: string, kind: string, partCount: number, token: string, now = new Date()): SignedTokenCheck {
  const fields = token.split('.');
  if (fields.length !== partCount + 3 || fields[0] !== kind) return { problem: 'malformed' };
  const signature = fields.at(-1)!;
  const expiry = fields.at(-2)!;
  const parts = fields.slice(1, -2);
  if (!/^[A-Za-z0-9_-]{43}$/.test(signature) || !/^\d{1,12}$/.test(expiry)) return { problem: 'malformed' };
  if (parts.some((part) => !new RegExp(`^[A-Za-z0-9_-]{1,${maxPartChars}}$`).test(part))) return { problem: 'malformed' };
  const payload = fields.slice(0, -1).join('.');
  if (!timingSafeEqual(Buffer.from(sign(secret, payload)), Buffer.from(signature))) return { problem: 'bad_signature' };
  if (Number(expiry) * 1000 <= now.getTime()) return { problem: 'expired' };
  return { parts: parts.map((part) => Buffer.from(part, 'base64url').toString()) };
}

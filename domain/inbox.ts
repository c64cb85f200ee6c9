import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkSignedToken, signToken, type SignedTokenCheck } from './signed-token';

/**
 * The rep's inbox at `/inbox` (docs/features/rep-inbox.md): two signed tokens under
 * `ACTION_LINK_SECRET`, each of a kind of its own so that neither passes for the other nor for an
 * action link (domain/action-links.ts):
 * - the session, in a cookie: the rep and a session id, valid for `sessionValidForMs`;
 * - the sign-in link emailed to a rep: the rep and a nonce, valid for `signInValidForMs` and
 *   single use (the nonce is spent in Postgres, db/inbox.ts).
 */
export const sessionKind = 's1';
export const signInKind = 'i1';

/** The outbox kind of the email that carries a rep's sign-in link (db/inbox.ts, worker/email.ts). */
export const signInEmailKind = 'inbox_sign_in';

/** A working day: a rep signs in once a day. */
export const sessionValidForMs = 12 * 3600_000;
/** Long enough to open the email, short enough that a link found later in a mailbox is spent. */
export const signInValidForMs = 15 * 60_000;

export type TokenProblem = Extract<SignedTokenCheck, { problem: string }>['problem'];

export interface InboxSession {
  repId: string;
  sessionId: string;
}

export const sessionToken = (secret: string, session: InboxSession, expiresAt: Date) =>
  signToken(secret, sessionKind, [session.repId, session.sessionId], expiresAt);

export function checkSessionToken(secret: string, token: string, now = new Date()): InboxSession | { problem: TokenProblem } {
  const check = checkSignedToken(secret, sessionKind, 2, token, now);
  if ('problem' in check) return check;
  const [repId, sessionId] = check.parts as [string, string];
  return { repId, sessionId };
}

export interface SignInLink {
  repId: string;
  nonce: string;
}

export const signInToken = (secret: string, link: SignInLink, expiresAt: Date) =>
  signToken(secret, signInKind, [link.repId, link.nonce], expiresAt);

export function checkSignInToken(
  secret: string,
  token: string,
  now = new Date(),
): (SignInLink & { expiresAt: Date }) | { problem: TokenProblem } {
  const check = checkSignedToken(secret, signInKind, 2, token, now);
  if ('problem' in check) return check;
  const [repId, nonce] = check.parts as [string, string];
  return { repId, nonce, expiresAt: new Date(Number(token.split('.').at(-2)) * 1000) };
}

/**
 * The CSRF token of a session, in every form of the inbox: derived from the session id, so it
 * needs no storage, and a page of another origin cannot read it (docs/operations/security.md).
 */
export const csrfToken = (secret: string, sessionId: string) =>
  createHmac('sha256', secret).update(`inbox-csrf.${sessionId}`).digest('base64url');

export function csrfMatches(secret: string, sessionId: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const expected = Buffer.from(csrfToken(secret, sessionId));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The inbox's order: the SLA due soonest first, leads without an SLA clock after them, oldest first among equals. */
export function inboxOrder<L extends { createdAt: string; routing: { dueAt: string | null; respondedAt: string | null } }>(
  leads: readonly L[],
): L[] {
  const due = (lead: L) => (lead.routing.dueAt && !lead.routing.respondedAt ? Date.parse(lead.routing.dueAt) : Number.POSITIVE_INFINITY);
  return [...leads].sort((a, b) => due(a) - due(b) || Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

import type { ActionName } from './actions';
import { checkSignedToken, signToken, type SignedTokenCheck } from './signed-token';

/**
 * One-click action links in alerts to reps (docs/features/email-and-notifications.md): `/act/{token}`,
 * where the token binds one lead, one rep, one action, a nonce and an expiry, signed under
 * `ACTION_LINK_SECRET` (domain/signed-token.ts). The link is the rep's credential for that one
 * action on that one lead, and only while the rep owns it; `open` only shows the lead.
 */
export const linkActions = ['open', 'accept', 'call', 'email', 'disqualify', 'recycle', 'convert'] as const;
export type LinkAction = (typeof linkActions)[number];

/** Token kind of action links: distinct from the unsubscribe link's, so neither passes for the other. */
export const actionLinkKind = 'a1';

export interface ActionLink {
  leadId: string;
  repId: string;
  action: LinkAction;
  nonce: string;
}

export function actionLinkToken(secret: string, link: ActionLink, expiresAt: Date): string {
  return signToken(secret, actionLinkKind, [link.leadId, link.repId, link.action, link.nonce], expiresAt);
}

export type ActionLinkCheck = ActionLink | { problem: Extract<SignedTokenCheck, { problem: string }>['problem'] };

/** The link a token stands for, or why it is refused (signature first, then expiry, then the action's name). */
export function checkActionLinkToken(secret: string, token: string, now = new Date()): ActionLinkCheck {
  const check = checkSignedToken(secret, actionLinkKind, 4, token, now);
  if ('problem' in check) return check;
  const [leadId, repId, action, nonce] = check.parts as [string, string, string, string];
  if (!(linkActions as readonly string[]).includes(action)) return { problem: 'malformed' };
  return { leadId, repId, action: action as LinkAction, nonce };
}

/** The API action a link performs, and the part of its body the link fixes (the rest comes from the form). */
export const linkActionEffects: Record<Exclude<LinkAction, 'open'>, { name: ActionName; body: Record<string, unknown> }> = {
  accept: { name: 'accept', body: {} },
  call: { name: 'touches', body: { channel: 'call' } },
  email: { name: 'touches', body: { channel: 'email' } },
  disqualify: { name: 'disqualify', body: {} },
  recycle: { name: 'recycle', body: {} },
  convert: { name: 'convert', body: {} },
};

export interface AlertLinkOptions {
  leadId: string;
  repId: string;
  validForMs: number;
  now: Date;
  /** Fresh per alert (and per page view): two links for the same action are two tokens. */
  nonce: string;
}

/** The links an alert carries: open the lead, accept it, log a call or an email. */
export function alertLinks(baseUrl: string, secret: string, { leadId, repId, validForMs, now, nonce }: AlertLinkOptions) {
  const expiresAt = new Date(now.getTime() + validForMs);
  const url = (action: LinkAction) => `${baseUrl}/act/${actionLinkToken(secret, { leadId, repId, action, nonce }, expiresAt)}`;
  return { open: url('open'), accept: url('accept'), call: url('call'), email: url('email') };
}
export type AlertLinks = ReturnType<typeof alertLinks>;

/** The words of each action link in an alert's text (email and chat). */
export const linkLabels: Record<string, string> = { open: 'Open lead', accept: 'Accept', call: 'Log call', email: 'Log email' };

/** Alert kinds that ask a rep to act on the lead they are about. */
const actionableKinds: ReadonlySet<string> = new Set(['assignment', 'sla_reminder']);

/**
 * Whether an alert carries action links, and to whom they are bound: an assignment (reassignment
 * and escalation to a manager included: both alert the new owner) or an SLA reminder, to a rep.
 */
export function linkRecipient(alert: { kind: string; recipient: string; leadId?: string | null }): string | undefined {
  if (!actionableKinds.has(alert.kind) || !alert.leadId || alert.recipient === 'ops') return undefined;
  return alert.recipient;
}
